"""The on-disk format, version 1 (docs/keyring-format.md): names, bounds and bindings.

Only this module knows how documents are laid out; ``store`` reads and writes them.
"""

from __future__ import annotations

import json

from ..encoding import b64decode_strict
from ..encoding import b64encode as b64e  # noqa: F401 - re-exported: store and session write with it
from ..errors import KeyringDamagedException

FORMAT_VERSION = 1
KEYRING_FILE = "keyring.toml"
KEYS_DIR = "keys"
ALIASES_FILE = "aliases.toml"  # every alias, in keyrings from before the buckets (read, then migrated)
ALIASES_DIR = "aliases"  # aliases/<2 hex>.toml: the aliases whose names hash to that bucket
ACCESS_KEYS_FILE = "access-keys.toml"
KEY_FILE_SUFFIX = ".toml"
# Every file is read with a bound, so that a hostile one cannot exhaust memory: 1 MiB for
# most, more for aliases.toml, which holds every alias (about 170 bytes each: 10,000 aliases
# make 1.7 MB).
ALIASES_FILE_LIMIT = 16 << 20

KEYRING_KIND = "kmscli-keyring"
KEY_KIND = "kmscli-key"
ALIASES_KIND = "kmscli-aliases"
ACCESS_KEYS_KIND = "kmscli-access-keys"

# scrypt: the default cost of the issue (N = 2**17, r = 8, p = 1: 128 MiB, ~0.3 s), and
# the bounds a file must satisfy before we derive anything from it, so that a hostile
# keyring.toml cannot make us allocate gigabytes or spin for minutes.
SCRYPT_DEFAULT = {"log2_n": 17, "r": 8, "p": 1}
SCRYPT_LOG2_N_RANGE = (10, 20)
SCRYPT_R_RANGE = (1, 32)
SCRYPT_P_RANGE = (1, 16)
SCRYPT_MAX_MEMORY = 256 << 20  # bytes: 128 * r * N
# Work grows with N * r * p, memory only with N * r: p = 16 at the largest memory would make
# every unlock ~50 times slower. This bound is twice the default's (2**17 * 8 * 1), so every
# keyring `init` can make (log2 N up to 18 at r = 8, p = 1) stays within it.
SCRYPT_MAX_WORK = 2 * (1 << 17) * 8 * 1
SALT_SIZE = 16


def alias_buckets() -> frozenset[str]:
    """The 256 bucket names, "00" to "ff". Made when asked: as a constant, every command paid
    for it at import (~0.8M instructions), and only alias listings and writers use it."""
    return frozenset(f"{n:02x}" for n in range(256))


def alias_bucket(name: str) -> str:
    """The bucket of an alias: the low byte of the CRC-32 of its name, two hex digits. Only a
    place to look (the bucket's integrity tag is what is trusted), so no keyed hash is needed."""
    import binascii

    return "%02x" % (binascii.crc32(name.encode("utf-8")) & 0xFF)


def max_log2_n(r: int) -> int:
    """The largest log2 N whose memory, 128 * r * N, the reader will accept (18 at r = 8)."""
    return min(SCRYPT_LOG2_N_RANGE[1], (SCRYPT_MAX_MEMORY // (128 * r)).bit_length() - 1)

# HKDF labels: each sub-key of the master key serves one purpose only.
INTEGRITY_LABEL = b"kmscli v1 document integrity"
# keyring.toml cannot carry an HMAC under the master key (the master key is what it
# protects), so it carries two weaker checks, each optional so older keyrings still open:
# a plain checksum, which tells accidental damage (a flipped bit, a truncated copy) from a
# wrong passphrase, and a passphrase check (an HMAC under the passphrase-derived wrapping
# key), which tells a right passphrase on an edited file from a wrong passphrase.
KEYRING_CHECKSUM_FIELD = "checksum"
PASSPHRASE_CHECK_LABEL = b"kmscli v1 passphrase check"


# A plain class with slots: a named tuple's class costs every command ~0.8M instructions of
# start-up (kmscli/specs.py), and typing.NamedTuple more.
class ScryptParams:
    __slots__ = ("log2_n", "r", "p", "salt")

    def __init__(self, log2_n: int, r: int, p: int, salt: bytes):
        self.log2_n, self.r, self.p, self.salt = log2_n, r, p, salt

    def check(self) -> "ScryptParams":
        for name, value, (low, high) in (
            ("log2_n", self.log2_n, SCRYPT_LOG2_N_RANGE),
            ("r", self.r, SCRYPT_R_RANGE),
            ("p", self.p, SCRYPT_P_RANGE),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise KeyringDamagedException(
                    f"{KEYRING_FILE}: scrypt {name} = {value!r} is outside {low}..{high}"
                )
        if 128 * self.r * (1 << self.log2_n) > SCRYPT_MAX_MEMORY:
            raise KeyringDamagedException(
                f"{KEYRING_FILE}: scrypt parameters would need more than "
                f"{SCRYPT_MAX_MEMORY >> 20} MiB"
            )
        if (1 << self.log2_n) * self.r * self.p > SCRYPT_MAX_WORK:
            raise KeyringDamagedException(
                f"{KEYRING_FILE}: scrypt parameters N*r*p = {(1 << self.log2_n) * self.r * self.p} "
                f"exceed the bound of {SCRYPT_MAX_WORK} (it keeps a planted file from slowing every unlock)"
            )
        if len(self.salt) < SALT_SIZE:
            raise KeyringDamagedException(f"{KEYRING_FILE}: scrypt salt is too short")
        return self


def b64d(text: object, what: str) -> bytes:
    """Strict base64 of a stored field; anything else means the file was damaged."""
    if not isinstance(text, str):
        raise KeyringDamagedException(f"{what} is not base64 text")
    return b64decode_strict(text, what, error=KeyringDamagedException)


def parse_toml(raw: bytes, what: str) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyringDamagedException(f"{what} is not valid TOML") from None
    from .plain_toml import loads

    doc = loads(text)  # the TOML kmscli writes, without tomllib's import (plain_toml says why)
    if doc is not None:
        return doc
    import tomllib  # any other text: tomllib reads it, or says what is wrong with it

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise KeyringDamagedException(f"{what} is not valid TOML") from None
    except ValueError:
        # An integer of more than 4,300 digits: Python's int() refuses it (CVE-2020-10735).
        raise KeyringDamagedException(f"{what} holds a number too long to be a kmscli file's") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively: a planted file of
        # deeply nested brackets is damage, not an internal error.
        raise KeyringDamagedException(f"{what} is nested too deeply to be a kmscli file") from None


def dump_toml(doc: dict) -> bytes:
    import tomli_w  # only writers pay for it

    return tomli_w.dumps(doc).encode("utf-8")


def keyring_checksum(doc: dict) -> str:
    import hashlib

    body = {k: v for k, v in doc.items() if k != KEYRING_CHECKSUM_FIELD}
    return "sha256:" + hashlib.sha256(canonical(body)).hexdigest()


def dump_keyring(doc: dict) -> bytes:
    """keyring.toml's bytes, with the checksum of its content."""
    body = {k: v for k, v in doc.items() if k != KEYRING_CHECKSUM_FIELD}
    return dump_toml({**body, KEYRING_CHECKSUM_FIELD: keyring_checksum(body)})


def check_keyring_checksum(doc: dict) -> dict:
    """The document without its checksum, once the checksum (when there is one) matches.

    Stripped on reading, so that whoever rewrites the document recomputes it."""
    stored = doc.get(KEYRING_CHECKSUM_FIELD)
    if stored is None:
        return doc
    if stored != keyring_checksum(doc):
        raise KeyringDamagedException(f"{KEYRING_FILE} was altered or damaged (its checksum does not match)")
    return {k: v for k, v in doc.items() if k != KEYRING_CHECKSUM_FIELD}


def canonical(value: object) -> bytes:
    """A byte encoding of plain data with exactly one spelling per value, for MACs and AAD."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_not_plain
        ).encode("utf-8")
    except RecursionError:
        raise KeyringDamagedException("a keyring file is nested too deeply to be a kmscli file") from None


def _not_plain(value: object):
    # kmscli writes only strings, integers, tables and arrays; a TOML date or time can only
    # come from a hand edit, and must be "damaged", not an internal error.
    raise KeyringDamagedException(f"a keyring file holds a {type(value).__name__}, which kmscli never writes")


def check_kind(doc: dict, kind: str, what: str) -> None:
    if doc.get("format") != kind:
        raise KeyringDamagedException(f"{what} is not a {kind} file")
    version = doc.get("version")
    if version != FORMAT_VERSION:
        raise KeyringDamagedException(
            f"{what} has format version {version!r}; this kmscli reads version {FORMAT_VERSION}",
            hint="use the kmscli release that wrote this keyring",
        )


KEY_METADATA_STRINGS = ("KeyId", "KeySpec", "KeyUsage", "Origin", "KeyState", "CreationDate")


def check_key_document(doc: dict, key_id: str, what: str) -> None:
    """The shape every reader of a key file relies on, checked once when it is read, so that
    a hand-edited file is refused as damaged (even by commands that need no passphrase and
    so cannot check its integrity tag) instead of failing somewhere later."""
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or meta.get("KeyId") != key_id:
        raise KeyringDamagedException(f"{what} does not describe key {key_id}")
    for field in KEY_METADATA_STRINGS:
        if not isinstance(meta.get(field), str):
            raise KeyringDamagedException(f"{what}: metadata {field} is missing or not text")
    if not isinstance(meta.get("Description", ""), str):
        raise KeyringDamagedException(f"{what}: metadata Description is not text")
    materials = doc.get("materials", [])
    if not isinstance(materials, list) or not all(isinstance(m, dict) for m in materials):
        raise KeyringDamagedException(f"{what}: materials is not a list of tables")


# keyring.toml's wrapped master keys: the current one, and during a master-key rotation
# (docs/keyring-format.md) the next one beside it.
MASTER_KEY_FIELDS = ("master_key", "next_master_key")
# The public id of a master key: which one seals a document (its ``master_key_id`` field).
MASTER_KEY_ID_LABEL = b"kmscli v1 master key id"
MASTER_KEY_ID_FIELD = "master_key_id"


def master_key_aad(doc: dict, field: str = "master_key") -> bytes:
    """A master key's wrap is bound to every other field of keyring.toml (its id, region,
    account and KDF parameters): an edited file fails to unlock instead of being trusted.
    The two wraps of a rotation carry different labels, so they cannot be swapped."""
    rest = {k: v for k, v in doc.items() if k not in MASTER_KEY_FIELDS}
    label = b"kmscli v1 master key\x00" if field == "master_key" else b"kmscli v1 next master key\x00"
    return label + canonical(rest)


def material_aad(key_id: str, key_spec: str, key_usage: str, origin: str, material_id: str) -> bytes:
    """Wrapped key material is bound to its key's identity and cryptographic configuration,
    so material pasted into another key, or a key whose spec was edited, fails to unwrap."""
    return b"kmscli v1 key material\x00" + canonical(
        {
            "KeyId": key_id,
            "KeySpec": key_spec,
            "KeyUsage": key_usage,
            "Origin": origin,
            "KeyMaterialId": material_id,
        }
    )


def material_aad_of(meta: dict, material_id: str) -> bytes:
    """material_aad for the key ``meta`` describes."""
    return material_aad(meta["KeyId"], meta["KeySpec"], meta["KeyUsage"], meta["Origin"], material_id)


# The import wrapping key of GetParametersForImport is stored in the key's file, wrapped like
# key material under this prefix and its ParametersId (kept apart from material ids).
WRAPPING_KEY_PREFIX = "import-wrapping-key/"

# The sub-key that names imported key material (service/importing.py). Those names are in
# ciphertexts, so they must outlive a master-key rotation: master_rotation keeps its value.
MATERIAL_ID_LABEL = b"kmscli v1 imported key material id"


def access_key_secret_aad(access_key_id: str) -> bytes:
    """An access key's wrapped secret is bound to its id: a secret pasted under another id
    fails to unwrap instead of authenticating as it."""
    return b"kmscli v1 access key secret\x00" + canonical({"AccessKeyId": access_key_id})
