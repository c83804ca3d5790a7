"""The header of a streamed file, versions 1 and 2 (docs/file-format.md).

Version 2 (written since the endpoint mode, for keys of a keyring and of any KMS endpoint
alike) names the key by its ARN, so a file says which keyring or endpoint, Region and
account holds its key:

    offset  size  field
    0       8     magic "kmsclisf" (kmscli streamed file)
    8       1     version, 0x02
    9       1     log2 of the chunk size: 16 (64 KiB) to 22 (4 MiB); kmscli writes 20 (1 MiB)
    10      1     how the data key is wrapped: 0x01 SYMMETRIC_DEFAULT, 0x02 RSAES_OAEP_SHA_256
    11      32    HKDF salt
    43      7     nonce prefix of the chunks
    50      2     length A of the key identifier, big-endian, 1 to 2048
    52      2     length L of the wrapped data key, big-endian, 1 to 6144
    54      A     the key identifier, UTF-8: the key ARN (or the key id, when encrypt-file
                  --public-key was given a PEM that names no ARN)
    54+A    L     the wrapped data key: the KMS's CiphertextBlob, or an RSAES-OAEP ciphertext
    54+A+L  ...   the chunks (kmscli.crypto.stream)

Version 1 (read, never written any more) names the key by its UUID alone:

    0 magic, 8 version 0x01, 9 chunk log2, 10 wrapping, 11 key id (the UUID's 16 bytes),
    27 salt (32), 59 nonce prefix (7), 66 L (2), 68 wrapped data key (L), 68+L the chunks

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
VERSION = 2  # the version written
VERSIONS = (1, 2)  # the versions read
CHUNK_LOG2_RANGE = (16, 22)  # bounds what a reader allocates: a few buffers of at most 4 MiB
CHUNK_LOG2_DEFAULT = 20
KEY_NAME_MAX = 2048  # AWS's KeyIdType length bound
WRAPPING = {specs.SYMMETRIC_DEFAULT: 1, "RSAES_OAEP_SHA_256": 2}
_WRAPPING_NAMES = {code: name for name, code in WRAPPING.items()}
_START = struct.Struct(">8sBBB")  # magic, version, chunk log2, wrapping: the same in every version
_V1 = struct.Struct(f">16s{stream.SALT_SIZE}s{stream.NONCE_PREFIX_SIZE}sH")
_V2 = struct.Struct(f">{stream.SALT_SIZE}s{stream.NONCE_PREFIX_SIZE}sHH")
V1_FIXED_SIZE = _START.size + _V1.size  # 68
FIXED_SIZE = _START.size + _V2.size  # 54: version 2's, up to the key identifier


@dataclass(frozen=True)
class Header:
    chunk_log2: int
    algorithm: str  # the EncryptionAlgorithm that wrapped the data key
    key_id: str  # as the file names its key: an ARN (version 2) or a key id (version 1)
    salt: bytes
    nonce_prefix: bytes
    wrapped_key: bytes
    raw: bytes  # the bytes as written: what the file key is bound to
    version: int = VERSION

    @property
    def chunk_size(self) -> int:
        return 1 << self.chunk_log2


def new_header(
    *, algorithm: str, key_id: str, salt: bytes, nonce_prefix: bytes, wrapped_key: bytes,
    chunk_log2: int = CHUNK_LOG2_DEFAULT,
) -> Header:
    """A version 2 header; ``key_id`` is the key ARN the KMS answered with."""
    name = key_id.encode("utf-8")
    if not 1 <= len(name) <= KEY_NAME_MAX or not 1 <= len(wrapped_key) <= specs.CIPHERTEXT_BLOB_MAX:
        raise ciphertext.invalid()  # a KMS answer no reader could take back
    raw = (
        _START.pack(MAGIC, VERSION, chunk_log2, WRAPPING[algorithm])
        + _V2.pack(salt, nonce_prefix, len(name), len(wrapped_key))
        + name
        + wrapped_key
    )
    return Header(chunk_log2, algorithm, key_id, salt, nonce_prefix, wrapped_key, raw)


def header_size(data: bytes) -> int:
    """How long the header at the start of ``data`` is (for tools and tests that cut files)."""
    if data[8] == 1:
        (length,) = struct.unpack(">H", data[V1_FIXED_SIZE - 2 : V1_FIXED_SIZE])
        return V1_FIXED_SIZE + length
    name_length, length = struct.unpack(">HH", data[FIXED_SIZE - 4 : FIXED_SIZE])
    return FIXED_SIZE + name_length + length


def not_a_streamed_file():
    """The one opaque error, with a hint that says what the (public) marker already says: this
    is not a file that encrypt-file wrote, so the context is not what is wrong."""
    error = ciphertext.invalid()
    error.hint = "the input does not start as files from encrypt-file do; a ciphertext from encrypt opens with: kmscli decrypt --in FILE"
    return error


def read_header(source: BinaryIO) -> Header:
    """The header at the start of ``source``; anything malformed is the one opaque error."""
    start = _read_up_to(source, _START.size)
    if not start or not (start.startswith(MAGIC) or MAGIC.startswith(start)):
        raise not_a_streamed_file()
    if len(start) < _START.size:
        raise ciphertext.invalid()
    _magic, version, chunk_log2, wrapping = _START.unpack(start)
    if (
        version not in VERSIONS
        or not CHUNK_LOG2_RANGE[0] <= chunk_log2 <= CHUNK_LOG2_RANGE[1]
        or wrapping not in _WRAPPING_NAMES
    ):
        raise ciphertext.invalid()
    fixed = _read_exactly(source, (_V1 if version == 1 else _V2).size)
    if version == 1:
        key_bytes, salt, prefix, length = _V1.unpack(fixed)
        key_id, name = str(uuid.UUID(bytes=key_bytes)), b""
    else:
        salt, prefix, name_length, length = _V2.unpack(fixed)
        if not 1 <= name_length <= KEY_NAME_MAX:
            raise ciphertext.invalid()
        name = _read_exactly(source, name_length)
        try:
            key_id = name.decode("utf-8")
        except UnicodeDecodeError:
            raise ciphertext.invalid() from None
        if not key_id.isprintable() or any(c.isspace() for c in key_id):
            raise ciphertext.invalid()  # an identifier, never text that could drive a terminal
    if not 1 <= length <= specs.CIPHERTEXT_BLOB_MAX:
        raise ciphertext.invalid()
    wrapped = _read_exactly(source, length)
    return Header(
        chunk_log2, _WRAPPING_NAMES[wrapping], key_id, salt, prefix, wrapped, start + fixed + name + wrapped, version
    )


def _read_exactly(source: BinaryIO, n: int) -> bytes:
    data = _read_up_to(source, n)
    if len(data) < n:
        raise ciphertext.invalid()
    return data


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
