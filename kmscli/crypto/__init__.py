"""The only package that imports ``cryptography.hazmat``: bytes in, bytes out.

No printing, no files, no key-state logic. Heavy families (RSA, ECC, ML-DSA, scrypt) are
imported inside the functions that use them, so that a command which never touches them
does not pay for their import (kmscli runs in shell loops; start-up time matters).
"""


class CryptoFailure(Exception):
    """An authentication or decoding failure inside a primitive.

    Deliberately carries no detail: callers turn it into one opaque KMS error, so nobody
    learns which check failed (the Fernet habit)."""
