"""Access keys: the credentials `kmscli serve` accepts, shaped like IAM's.

An access key is an id (``AKIA`` and 16 characters of base32, as AWS spells them, so that
tools which check the form accept it) and a 40-character secret. The secret is printed once,
by ``create_access_key``; the keyring keeps it wrapped under the master key in
access-keys.toml (its integrity checked as every document's), and ``SecretLookup`` unwraps
it for the server's SigV4 check. A deleted access key is gone from the file: the server sees
the file change at the next request and refuses the key.
"""

from __future__ import annotations

import base64
import os
import threading

from ..errors import LimitExceededException, NotFoundException, ValidationException
from ..keyring import Keyring
from ..keyring import format as fmt
from .keydoc import iso, now

ID_PREFIX = "AKIA"
ID_LENGTH = 20
SECRET_LENGTH = 40
ACTIVE = "Active"
# IAM allows two per user; a keyring is one user, but several programs may each want their
# own credential to revoke separately. A bound, so the file (read on every request) stays small.
MAX_ACCESS_KEYS = 100

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_access_key_id() -> str:
    # 16 characters of base32: 80 random bits, as AWS's ids after their 4-letter prefix.
    return ID_PREFIX + base64.b32encode(os.urandom(10)).decode("ascii")


def new_secret() -> str:
    # 30 random bytes: 40 characters of standard base64, the length and alphabet of AWS's.
    return base64.b64encode(os.urandom(30)).decode("ascii")


def is_access_key_id(text: object) -> bool:
    return (
        isinstance(text, str)
        and len(text) == ID_LENGTH
        and text.startswith(ID_PREFIX)
        and all(c in _BASE32 for c in text[len(ID_PREFIX):])
    )


def _metadata(access_key_id: str, entry: dict) -> dict:
    return {"AccessKeyId": access_key_id, "Status": entry.get("Status", ACTIVE), "CreateDate": entry.get("CreateDate")}


def create_access_key(keyring: Keyring) -> dict:
    """A new access key; the only time its secret is returned."""
    access_key_id, secret = new_access_key_id(), new_secret()
    with keyring.transaction():
        keys = keyring.load_access_keys(verify=True)
        if len(keys) >= MAX_ACCESS_KEYS:
            raise LimitExceededException(
                f"the keyring has {len(keys)} access keys, the most it keeps",
                hint="delete one you no longer use with: kmscli delete-access-key --access-key-id ID",
            )
        created = iso(now(keyring))
        entry = {"Status": ACTIVE, "CreateDate": created, **keyring.wrap_access_key_secret(access_key_id, secret.encode())}
        keyring.save_access_keys({**keys, access_key_id: entry})
    return {"AccessKey": {**_metadata(access_key_id, entry), "SecretAccessKey": secret}}


def list_access_keys(keyring: Keyring) -> dict:
    """The access keys' ids, statuses and creation dates (never a secret)."""
    keys = keyring.load_access_keys()
    return {"AccessKeyMetadata": [_metadata(k, v) for k, v in sorted(keys.items(), key=lambda kv: kv[1].get("CreateDate", ""))]}


def delete_access_key(keyring: Keyring, access_key_id: str) -> dict:
    if not isinstance(access_key_id, str) or not access_key_id:
        raise ValidationException("AccessKeyId must be given")
    with keyring.transaction():
        keys = keyring.load_access_keys(verify=True)
        if access_key_id not in keys:
            raise NotFoundException(
                f"access key '{access_key_id[:40]}' does not exist",
                hint="list them with: kmscli list-access-keys",
            )
        keyring.save_access_keys({k: v for k, v in keys.items() if k != access_key_id})
    return {}


class SecretLookup:
    """``secret_for`` for a long-running server: the unwrapped secrets are kept while
    access-keys.toml is the same file, and read again as soon as it is not. Every write
    replaces the file (a new inode, a new mtime), so a key created or deleted by the CLI is
    seen at the next request without reading and verifying the file on every request."""

    def __init__(self, keyring: Keyring):
        self.keyring = keyring
        self._path = os.fspath(keyring.path / fmt.ACCESS_KEYS_FILE)  # joined once: stat'ed every request
        self._lock = threading.Lock()
        self._signature: tuple | None = None
        self._secrets: dict[str, bytes] = {}

    def _file_signature(self) -> tuple | None:
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def __call__(self, access_key_id: str) -> bytes | None:
        if not is_access_key_id(access_key_id):
            return None
        with self._lock:
            signature = self._file_signature()
            if signature is None:
                self._signature, self._secrets = None, {}
            elif signature != self._signature:
                keys = self.keyring.load_access_keys(verify=True)
                self._secrets = {
                    akid: self.keyring.unwrap_access_key_secret(akid, entry)
                    for akid, entry in keys.items()
                    if entry.get("Status") == ACTIVE
                }
                self._signature = signature
            return self._secrets.get(access_key_id)
