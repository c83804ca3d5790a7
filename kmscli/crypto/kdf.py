"""scrypt, the passphrase-to-key derivation, and HKDF for sub-keys of the master key."""

from __future__ import annotations


def scrypt(passphrase: bytes, salt: bytes, log2_n: int, r: int, p: int, length: int = 32) -> bytes:
    # Imported here: only commands that unlock the keyring with a passphrase pay for it.
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=length, n=1 << log2_n, r=r, p=p).derive(passphrase)


def hkdf_sha256(key: bytes, info: bytes, length: int = 32) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key)
