"""Master-key rotation: a new random master key, every sealed document rewrapped, atomic as a whole.

change-passphrase alone rewraps only the master key, so an old copy of keyring.toml plus the
old passphrase (or a copied session file plus its token) still yields the master key, and
with it every key created later. Rotation replaces the master key itself. Its steps, each
one atomic write (docs/keyring-format.md, "Master-key rotation"):

1. end every session (the session epoch changes first: no session can hold the old key
   through what follows);
2. keyring.toml gains ``next_master_key`` beside ``master_key``, both sealed under the
   passphrase's wrapping key (a new passphrase's, for change-passphrase --rotate-master-key);
3. each document of SEALED_KINDS still sealed under the old key (its ``master_key_id``
   says which) is rewrapped: its secrets unwrapped with the old key and sealed with the new,
   its integrity tag made with the new;
4. keyring.toml keeps only the new key as ``master_key`` (and its own secrets sealed under it).

A crash anywhere leaves a keyring that opens with one passphrase: before step 2 nothing
changed; between 2 and 4 keyring.toml holds both keys and each document names the one that
seals it, so none is lost, and the next unlock with the passphrase finishes the rotation
(``finish``, called by Keyring._use_master); after 4 it is done. tests/crash_harness.py
(op rotate-master-key) kills it at random moments to show it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..crypto import aead, kdf
from ..errors import KeyringDamagedException, KeyringLockedException
from . import format as fmt
from .fsutil import atomic_write, read_file, remove_stale_temps
from .lock import exclusive_lock

# A secret sealed in a document: (the table holding "nonce" and "wrapped", its AAD, what it is).
Secret = tuple[dict, bytes, str]


@dataclass(frozen=True)
class SealedKind:
    """One kind of document sealed under the master key: which files hold it, and the
    secrets wrapped inside one (each opened and resealed with ``Keyring.open_secret`` /
    ``seal_secret``). Its documents are written with ``Keyring._sealed_bytes``."""

    name: str
    files: Callable[[object], Iterable[Path]]
    secrets: Callable[[dict], Iterable[Secret]]


def _key_files(keyring) -> list[Path]:
    return [keyring.key_path(key_id) for key_id in keyring.key_ids()]


def _key_secrets(doc: dict) -> list[Secret]:
    meta = doc["metadata"]
    found = []
    for entry in doc.get("materials", []):
        material_id = entry.get("KeyMaterialId")
        if not isinstance(material_id, str):
            raise KeyringDamagedException(f"key material of {meta['KeyId']} has no KeyMaterialId")
        found.append((entry, fmt.material_aad_of(meta, material_id), f"key material of {meta['KeyId']}"))
    params = doc.get("import_parameters")
    if isinstance(params, dict) and isinstance(params.get("ParametersId"), str):
        aad = fmt.material_aad_of(meta, fmt.WRAPPING_KEY_PREFIX + params["ParametersId"])
        found.append((params, aad, f"import wrapping key of {meta['KeyId']}"))
    return found


def _alias_files(keyring) -> list[Path]:
    """Every alias bucket (aliases/<2 hex>.toml), and aliases.toml if a keyring from before
    the buckets still has it (its aliases move to buckets at the next write)."""
    return [keyring.path / fmt.ALIASES_FILE, *map(keyring.alias_bucket_path, keyring.alias_buckets_present())]


def _access_key_secrets(doc: dict) -> list[Secret]:
    keys = doc.get("access_keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, dict) for v in keys.values()):
        raise KeyringDamagedException(f"{fmt.ACCESS_KEYS_FILE}: access_keys is not a table of tables")
    return [(entry, fmt.access_key_secret_aad(akid), f"the secret of access key {akid}") for akid, entry in keys.items()]


# Every kind of document sealed under the master key. A new kind joins the rotation with one
# line here.
SEALED_KINDS: list[SealedKind] = [
    SealedKind("key file", _key_files, _key_secrets),
    SealedKind("aliases", _alias_files, lambda doc: ()),
    SealedKind("access keys", lambda keyring: [keyring.path / fmt.ACCESS_KEYS_FILE], _access_key_secrets),
]

# keyring.toml's own secrets, sealed under the master key in its [secrets] table (name ->
# {nonce, wrapped}). The material-id key is put there by the first rotation: imported key
# material is named by an HMAC under a sub-key of the master key (service/importing.py), and
# those names must outlive the key they were derived from.
SECRETS_FIELD = "secrets"
STABLE_SUBKEY_LABELS = (fmt.MATERIAL_ID_LABEL,)


def secret_aad(keyring_id: str, name: str) -> bytes:
    return b"kmscli v1 keyring secret\x00" + fmt.canonical({"keyring_id": keyring_id, "name": name})


def rotate(keyring, *, new_passphrase: bytes | None = None, scrypt_log2_n: int | None = None) -> dict:
    """Replace the master key (and, with ``new_passphrase``, the passphrase) of an unlocked
    keyring; returns {"DocumentsRewrapped", "SessionsEnded"} once every document is sealed
    under the new key."""
    from . import session

    old = keyring.master_key
    if keyring._wrapping_key is None:
        raise KeyringLockedException(
            "rotating the master key needs the passphrase, not a session",
            hint="set KMSCLI_PASSPHRASE_FILE, or run it at a terminal to be asked",
        )
    _verify_all(keyring, old)  # a damaged document stops the rotation before anything changes
    ended = session.end_all(keyring)
    with exclusive_lock(keyring.path):
        keyring._check_master_unchanged()
        remove_stale_temps(keyring.path)
        remove_stale_temps(keyring.path / fmt.KEYS_DIR)
        doc = _read_keyring_doc(keyring)
        new = os.urandom(aead.KEY_SIZE)
        if new_passphrase is None:
            wrapping_key = keyring._wrapping_key
        else:
            current = keyring.scrypt_params()
            params = fmt.ScryptParams(
                scrypt_log2_n or current.log2_n, current.r, current.p, os.urandom(fmt.SALT_SIZE)
            ).check()
            doc["kdf"] = {"name": "scrypt", "log2_n": params.log2_n, "r": params.r, "p": params.p,
                          "salt": fmt.b64e(params.salt)}
            wrapping_key = kdf.scrypt(new_passphrase, params.salt, params.log2_n, params.r, params.p)
            from .store import _passphrase_check

            doc["kdf"]["check"] = fmt.b64e(_passphrase_check(wrapping_key))
        doc = keyring._seal_masters(doc, wrapping_key, old, new)
        _write_keyring_doc(keyring, doc)
        keyring._rotation = (wrapping_key, new)
        rewrapped = _rewrap_and_complete(keyring, old, wrapping_key, new)
    # A session started from the old keyring.toml while we worked holds the old key: end it.
    ended += session.end_all(keyring)
    return {"DocumentsRewrapped": rewrapped, "SessionsEnded": ended}


def finish(keyring) -> None:
    """Finish a rotation a crash interrupted (keyring.toml holds next_master_key). The
    keyring was unlocked with the passphrase: ``keyring._master`` is the old key and
    ``keyring._rotation`` the wrapping key and the new one."""
    old = keyring._master
    wrapping_key, new = keyring._rotation
    with exclusive_lock(keyring.path):
        doc = _read_keyring_doc(keyring)
        keyring.doc = doc
        if "next_master_key" in doc:
            remove_stale_temps(keyring.path)
            remove_stale_temps(keyring.path / fmt.KEYS_DIR)
            _rewrap_and_complete(keyring, old, wrapping_key, new)
        else:  # another process finished it meanwhile
            from .store import master_key_id

            if doc.get("master_key", {}).get("id") != master_key_id(new, keyring.keyring_id):
                raise KeyringLockedException("the keyring's master key changed meanwhile", hint="run the command again")
            keyring._master, keyring._master_id, keyring._rotation = new, None, None


def _rewrap_and_complete(keyring, old: bytes, wrapping_key: bytes, new: bytes) -> int:
    from .store import master_key_id

    new_id = master_key_id(new, keyring.keyring_id)
    rewrapped = 0
    for kind in SEALED_KINDS:
        for path in kind.files(keyring):
            rewrapped += _rewrap_file(keyring, kind, path, old, new, new_id)
    doc = _read_keyring_doc(keyring)
    secrets = dict(doc.get(SECRETS_FIELD, {}))
    for name, entry in secrets.items():
        value = keyring.open_secret(entry, secret_aad(keyring.keyring_id, name), f"keyring secret {name}", master=old)
        secrets[name] = keyring.seal_secret(value, secret_aad(keyring.keyring_id, name), master=new)
    for label in STABLE_SUBKEY_LABELS:
        name = label.decode()
        if name not in secrets:  # first rotation: keep what the old master key derived
            value = kdf.hkdf_sha256(old, label + keyring.keyring_id.encode())
            secrets[name] = keyring.seal_secret(value, secret_aad(keyring.keyring_id, name), master=new)
    doc[SECRETS_FIELD] = secrets
    doc = keyring._seal_masters(doc, wrapping_key, new, None)
    _write_keyring_doc(keyring, doc)
    keyring._master, keyring._master_id, keyring._rotation = new, None, None
    keyring._wrapping_key = wrapping_key
    return rewrapped


def _rewrap_file(keyring, kind: SealedKind, path: Path, old: bytes, new: bytes, new_id: str) -> int:
    try:
        raw = read_file(path)
    except FileNotFoundError:
        return 0
    what = f"{kind.name} {path.name}"
    doc = fmt.parse_toml(raw, what)
    if doc.get(fmt.MASTER_KEY_ID_FIELD) == new_id:
        return 1  # rewrapped before the crash
    keyring.verify_document(doc, what, master=old)
    secrets = list(kind.secrets(doc))
    _check_no_unknown_secrets(doc, secrets, what)
    for entry, aad, secret_what in secrets:
        secret = keyring.open_secret(entry, aad, secret_what, master=old)
        entry.update(keyring.seal_secret(secret, aad, master=new))
        if keyring.open_secret(entry, aad, secret_what, master=new) != secret:  # the Tink habit
            raise KeyringDamagedException(f"{secret_what} did not survive rewrapping")
    body = {k: v for k, v in doc.items() if k not in ("integrity", fmt.MASTER_KEY_ID_FIELD)}
    atomic_write(path, keyring._sealed_bytes(body, master=new), temp_dir=keyring.path)  # where the next writer looks
    return 1


def _verify_all(keyring, master: bytes) -> None:
    for kind in SEALED_KINDS:
        for path in kind.files(keyring):
            try:
                raw = read_file(path)
            except FileNotFoundError:
                continue
            what = f"{kind.name} {path.name}"
            doc = fmt.parse_toml(raw, what)
            keyring.verify_document(doc, what, master=master)
            secrets = list(kind.secrets(doc))
            for entry, aad, secret_what in secrets:
                keyring.open_secret(entry, aad, secret_what, master=master)
            _check_no_unknown_secrets(doc, secrets, what)


def _check_no_unknown_secrets(doc, secrets: list, what: str) -> None:
    """Refuse a document holding a sealed entry ("wrapped") that its SealedKind does not
    list: left under the old key, it would be lost with it. A new kind of wrapped field must
    be added to its SealedKind's ``secrets`` first (and this stops the rotation until it is)."""
    known = {id(entry) for entry, _, _ in secrets}
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "wrapped" in value and id(value) not in known:
                raise KeyringDamagedException(
                    f"{what} holds a wrapped secret that master-key rotation does not know how to rewrap",
                    hint="this kmscli cannot rotate this keyring's master key; nothing was changed",
                )
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _read_keyring_doc(keyring) -> dict:
    raw = read_file(keyring.path / fmt.KEYRING_FILE, limit=64 << 10)
    return fmt.check_keyring_checksum(fmt.parse_toml(raw, fmt.KEYRING_FILE))


def _write_keyring_doc(keyring, doc: dict) -> None:
    atomic_write(keyring.path / fmt.KEYRING_FILE, fmt.dump_keyring(doc))
    keyring.doc = doc
    keyring._stored_checksum = None


def stable_secret(keyring, label: bytes) -> bytes | None:
    """The stored value of a sub-key that must outlive master-key rotations, if stored."""
    entry = keyring.doc.get(SECRETS_FIELD, {}).get(label.decode())
    if entry is None:
        return None
    name = label.decode()
    return keyring.open_secret(entry, secret_aad(keyring.keyring_id, name), f"keyring secret {name}")
