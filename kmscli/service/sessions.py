"""Unlock, lock and change-passphrase: the keyring's protection, as plain functions.

The passphrase itself never passes through here: the keyring's unlocker asks for it, and the
new one comes from a callable, so that the current passphrase is checked (and asked for, on a
terminal) before the new one is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..keyring import Keyring, session


def unlock(keyring: Keyring, ttl: int = session.TTL_DEFAULT) -> dict:
    """Start a session. The result holds the token: print it once, store it nowhere."""
    started = session.start(keyring, ttl)
    return {
        "SessionToken": started["Token"],
        "Expires": dt.datetime.fromtimestamp(started["Expires"], dt.timezone.utc).isoformat(),
        "KeyringId": keyring.keyring_id,
    }


def lock(keyring: Keyring) -> dict:
    """End every session of the keyring. Needs no passphrase."""
    return {"KeyringId": keyring.keyring_id, "SessionsEnded": session.end_all(keyring)}


def change_passphrase(
    keyring: Keyring,
    new_passphrase: Callable[[], bytes],
    *,
    scrypt_log2_n: int | None = None,
    rotate_master_key: bool = False,
) -> dict:
    """Re-wrap the master key under a new passphrase (one file, keyring.toml, is rewritten;
    key files are not touched), then end every session: a passphrase is usually changed
    because the old one may be known, and a session is as good as the passphrase. With
    ``rotate_master_key``, the master key is replaced too (see rotate_master_key)."""
    keyring.master_key  # the current passphrase first: a wrong one fails before we ask more
    rotated = keyring.change_passphrase(
        new_passphrase(), scrypt_log2_n=scrypt_log2_n, rotate_master_key=rotate_master_key
    )
    ended = session.end_all(keyring)
    result = {
        "KeyringId": keyring.keyring_id,
        "ScryptLog2N": keyring.scrypt_params().log2_n,
        "SessionsEnded": ended + (rotated["SessionsEnded"] if rotated else 0),
    }
    if rotated:
        result["DocumentsRewrapped"] = rotated["DocumentsRewrapped"]
    return result


def rotate_master_key(keyring: Keyring) -> dict:
    """A new random master key: every key file and sealed document rewrapped, atomically as
    a whole, and every session ended. Keys and ciphertexts are unchanged; an old copy of
    keyring.toml (or of a session file) no longer opens what the keyring holds from now on."""
    rotated = keyring.rotate_master_key()
    return {"KeyringId": keyring.keyring_id, **rotated}
