"""kmscli: AWS KMS semantics, offline, over a passphrase-protected keyring on disk."""

__version__ = "0.1.0"
