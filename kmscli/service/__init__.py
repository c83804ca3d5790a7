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
# The sweep module (and rotation with it) is imported only when a write really begins:
# read-only commands such as encrypt or decrypt never pay for it.
from ..keyring import Keyring as _Keyring  # noqa: E402


def _sweep_before_writing(keyring) -> None:
    from .sweep import sweep

    sweep(keyring)


def _due_date_of(doc: dict) -> str | None:
    from ..errors import KmsError
    from .sweep import due_date

    try:
        return due_date(doc)
    except KmsError:
        return None  # a date that does not parse: the sweep would never act on it either


if _sweep_before_writing not in _Keyring.write_hooks:
    _Keyring.write_hooks.append(_sweep_before_writing)
# What the keyring's index records of each key, so that the sweep reads only what is due.
_Keyring.due_date_of = staticmethod(_due_date_of)
# due_date gives a date only to a key pending deletion (KeyState "PendingDeletion") or with an
# automatic rotation (its rotation table's NextRotationDate): a file holding neither name has
# nothing due, and a rebuild of the index need not parse it.
_Keyring.due_markers = (b'"PendingDeletion"', b"NextRotationDate")
