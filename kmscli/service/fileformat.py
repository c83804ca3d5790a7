"""The header of a streamed file, version 1 (docs/file-format.md).

    offset  size  field
    0       8     magic "kmsclisf" (kmscli streamed file)
    8       1     version, 0x01
    9       1     log2 of the chunk size: 16 (64 KiB) to 22 (4 MiB); kmscli writes 20 (1 MiB)
    10      1     how the data key is wrapped: 0x01 SYMMETRIC_DEFAULT, 0x02 RSAES_OAEP_SHA_256
    11      16    key id (the UUID's 16 bytes) of the KMS key that wrapped the data key
    27      32    HKDF salt
    59      7     nonce prefix of the chunks
    66      2     length L of the wrapped data key, big-endian, 1 to 6144
    68      L     the wrapped data key: a kmscli CiphertextBlob, or an RSAES-OAEP ciphertext
    68+L    ...   the chunks (kmscli.crypto.stream)

Everything here is public. The whole header is bound to the payload through the per-file
key (HKDF info holds its SHA-256), so changing any bit of it makes the first chunk fail.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from typing import BinaryIO

from .. import specs
from ..crypto import stream
from . import ciphertext

MAGIC = b"kmsclisf"
VERSION = 1
CHUNK_LOG2_RANGE = (16, 22)  # bounds what a reader allocates: a few buffers of at most 4 MiB
CHUNK_LOG2_DEFAULT = 20
WRAPPING = {specs.SYMMETRIC_DEFAULT: 1, "RSAES_OAEP_SHA_256": 2}
_WRAPPING_NAMES = {code: name for name, code in WRAPPING.items()}
_FIXED = struct.Struct(f">8sBBB16s{stream.SALT_SIZE}s{stream.NONCE_PREFIX_SIZE}sH")
FIXED_SIZE = _FIXED.size  # 68


@dataclass(frozen=True)
class Header:
    chunk_log2: int
    algorithm: str  # the EncryptionAlgorithm that wrapped the data key
    key_id: str
    salt: bytes
    nonce_prefix: bytes
    wrapped_key: bytes
    raw: bytes  # the bytes as written: what the file key is bound to

    @property
    def chunk_size(self) -> int:
        return 1 << self.chunk_log2


def new_header(
    *, algorithm: str, key_id: str, salt: bytes, nonce_prefix: bytes, wrapped_key: bytes,
    chunk_log2: int = CHUNK_LOG2_DEFAULT,
) -> Header:
    raw = _FIXED.pack(
        MAGIC,
        VERSION,
        chunk_log2,
        WRAPPING[algorithm],
        uuid.UUID(key_id).bytes,
        salt,
        nonce_prefix,
        len(wrapped_key),
    ) + wrapped_key
    return Header(chunk_log2, algorithm, key_id, salt, nonce_prefix, wrapped_key, raw)


def not_a_streamed_file():
    """The one opaque error, with a hint that says what the (public) marker already says: this
    is not a file that encrypt-file wrote, so the context is not what is wrong."""
    error = ciphertext.invalid()
    error.hint = "the input does not start as files from encrypt-file do; a ciphertext from encrypt opens with: kmscli decrypt --in FILE"
    return error


def read_header(source: BinaryIO) -> Header:
    """The header at the start of ``source``; anything malformed is the one opaque error."""
    fixed = _read_up_to(source, FIXED_SIZE)
    if not fixed or not (fixed.startswith(MAGIC) or MAGIC.startswith(fixed)):
        raise not_a_streamed_file()
    if len(fixed) < FIXED_SIZE:
        raise ciphertext.invalid()
    _magic, version, chunk_log2, wrapping, key_bytes, salt, prefix, length = _FIXED.unpack(fixed)
    if (
        version != VERSION
        or not CHUNK_LOG2_RANGE[0] <= chunk_log2 <= CHUNK_LOG2_RANGE[1]
        or wrapping not in _WRAPPING_NAMES
        or not 1 <= length <= specs.CIPHERTEXT_BLOB_MAX
    ):
        raise ciphertext.invalid()
    wrapped = _read_up_to(source, length)
    if len(wrapped) < length:
        raise ciphertext.invalid()
    return Header(
        chunk_log2,
        _WRAPPING_NAMES[wrapping],
        str(uuid.UUID(bytes=key_bytes)),
        salt,
        prefix,
        wrapped,
        fixed + wrapped,
    )


def _read_up_to(source: BinaryIO, n: int) -> bytes:
    """``n`` bytes, or fewer where the input ends (pipes return short reads)."""
    parts = []
    remaining = n
    while remaining:
        got = source.read(remaining)
        if not got:
            break
        parts.append(got)
        remaining -= len(got)
    return b"".join(parts)
