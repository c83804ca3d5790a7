"""The KMS operations as plain functions over a Keyring, taking and returning plain data
shaped like the AWS KMS API. This is the Python API; the CLI is one of its consumers.

    from kmscli.keyring import Keyring
    from kmscli.service import keys, encryption
    keyring = Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(b"..."))
    key = keys.create_key(keyring)["KeyMetadata"]["KeyId"]
    blob = encryption.encrypt(keyring, key, b"secret")["CiphertextBlob"]   # bytes
"""

# Every write to a keyring first carries out what time has made due (deletions, rotations);
# registered here so that any user of the service layer gets it, whichever module it imports.
from . import sweep as _sweep  # noqa: E402

_sweep.register()
