"""The symmetric ciphertext blob, version 1 (docs/ciphertext-format.md).

    offset  size  field
    0       1     version, 0x01
    1       16    key id (the UUID's 16 bytes)
    17      32    key material id
    49      12    AES-GCM nonce
    61      n+16  AES-256-GCM ciphertext and tag

The first 49 bytes (the header) and the encoded encryption context are the AAD, so a blob
whose header names another key or material, or that is opened with another context, fails.
"""

from __future__ import annotations

import uuid

from ..crypto.aead import NONCE_SIZE, TAG_SIZE
from ..errors import InvalidCiphertextException

VERSION = 1
MATERIAL_ID_SIZE = 32
HEADER_SIZE = 1 + 16 + MATERIAL_ID_SIZE
OVERHEAD = HEADER_SIZE + NONCE_SIZE + TAG_SIZE


# A plain class with slots: a named tuple's class costs every command ~0.8M instructions of
# start-up (kmscli/specs.py), and typing.NamedTuple more.
class Blob:
    __slots__ = ("key_id", "material_id", "nonce", "sealed")

    def __init__(self, key_id: str, material_id: str, nonce: bytes, sealed: bytes):
        self.key_id, self.material_id, self.nonce, self.sealed = key_id, material_id, nonce, sealed

    @property
    def header(self) -> bytes:
        return header(self.key_id, self.material_id)


def header(key_id: str, material_id: str) -> bytes:
    return bytes([VERSION]) + uuid.UUID(key_id).bytes + bytes.fromhex(material_id)


def pack(key_id: str, material_id: str, nonce: bytes, sealed: bytes) -> bytes:
    return header(key_id, material_id) + nonce + sealed


def unpack(blob: bytes) -> Blob:
    """Parse a blob; every malformation is the one opaque InvalidCiphertextException."""
    if len(blob) < OVERHEAD or blob[0] != VERSION:
        raise invalid()
    key_id = str(uuid.UUID(bytes=blob[1:17]))
    material_id = blob[17:HEADER_SIZE].hex()
    nonce = blob[HEADER_SIZE : HEADER_SIZE + NONCE_SIZE]
    return Blob(key_id, material_id, nonce, blob[HEADER_SIZE + NONCE_SIZE :])


def invalid() -> InvalidCiphertextException:
    # One message for every failure: which check failed is nobody's business.
    return InvalidCiphertextException(
        "the ciphertext, its encryption context, or its key is not valid",
        hint="pass the same --encryption-context pairs the data was encrypted with",
    )


def encode_context(context: dict[str, str] | None) -> bytes:
    """An unambiguous encoding of the encryption context, for the AAD.

    Pairs sorted by key, each key and value length-prefixed, the count first: {"a": "bc"}
    and {"ab": "c"} encode differently (a plain concatenation would not)."""
    items = sorted((context or {}).items(), key=lambda kv: kv[0].encode("utf-8"))
    # int.to_bytes(4, "big") is struct.pack(">I", n), without importing struct (start-up).
    out = [len(items).to_bytes(4, "big")]
    for key, value in items:
        for text in (key, value):
            raw = text.encode("utf-8")
            out.append(len(raw).to_bytes(4, "big"))
            out.append(raw)
    return b"".join(out)
