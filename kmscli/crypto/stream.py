"""A streaming AEAD for files of any size: STREAM (Hoang, Reyhanitabar, Rogaway, Vizár 2015)
over AES-256-GCM, in the manner of age's payload and Tink's AES-GCM-HKDF streaming AEAD.

The plaintext is cut into chunks of ``chunk_size`` bytes (the last one may be shorter, and
is empty only when the whole plaintext is). Chunk ``i`` is sealed with AES-256-GCM under a
per-file key, with the 96-bit nonce

    nonce prefix (7 bytes, random per file) || i (4 bytes, big-endian) || last flag (1 byte)

so that every chunk is bound to its position and to whether it ends the stream:

- reordering or dropping a chunk changes its counter, so its tag fails;
- truncation at a chunk boundary leaves a final chunk sealed with last=0, which fails when
  opened as the last one; trailing bytes make the real last chunk be opened with last=0;
- a chunk from another file was sealed under another file key (fresh data key and salt).

The per-file key is HKDF-SHA256(data key, salt, info = label || SHA-256(header)): any change
to the header (which carries the salt, the nonce prefix and the wrapped data key) yields
another key, so the first chunk fails before a byte of plaintext is released. There is no
separate header MAC to get wrong.

Memory is constant: a few buffers of about one chunk each, reused for the whole stream
(readinto, encrypt_into and decrypt_into never allocate per chunk). A ``write`` that hands
its views to another thread (so that writing to disk overlaps the sealing of the next
chunk) says how many it may still hold when it returns, ``held_views``; that many more
output buffers are rotated, so none is overwritten while it waits to be written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import CryptoFailure

NONCE_PREFIX_SIZE = 7
SALT_SIZE = 32
DATA_KEY_SIZE = 32
TAG_SIZE = 16
# The counter is 32 bits: at 1 MiB chunks that is 4 PiB per file, far past any real input.
MAX_CHUNKS = 1 << 32
KEY_LABEL = b"kmscli streamed file v1 payload key"

# A background writer holds a few views at most; the bound keeps memory constant (with the
# largest chunks of fileformat, 4 MiB, the output buffers stay under 32 MiB).
MAX_HELD_VIEWS = 6

ReadInto = Callable[[memoryview], int | None]
Write = Callable[[memoryview], object]
Progress = Callable[[int], None] | None


def file_key(data_key: bytes, salt: bytes, header: bytes) -> bytes:
    """The per-file AES-256-GCM key, bound to every byte of the header."""
    if len(data_key) != DATA_KEY_SIZE or len(salt) != SALT_SIZE:
        raise CryptoFailure()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    info = KEY_LABEL + hashlib.sha256(header).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(data_key)


def chunk_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    if len(prefix) != NONCE_PREFIX_SIZE or not 0 <= counter < MAX_CHUNKS:
        raise CryptoFailure()
    return prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _fill(readinto: ReadInto, buf: memoryview) -> int:
    """Read until ``buf`` is full or the input ends: pipes return short reads."""
    filled = 0
    while filled < len(buf):
        got = readinto(buf[filled:])
        if not got:
            break
        filled += got
    return filled


def _output_buffers(size: int, held_views: int) -> list[memoryview]:
    if not 0 <= held_views <= MAX_HELD_VIEWS:
        raise ValueError("held_views out of range")
    return [memoryview(bytearray(size)) for _ in range(held_views + 1)]


def encrypt(
    key: bytes,
    prefix: bytes,
    chunk_size: int,
    readinto: ReadInto,
    write: Write,
    progress: Progress = None,
    *,
    held_views: int = 0,
) -> int:
    """Seal everything ``readinto`` yields and ``write`` the chunks; returns the plaintext size.

    A chunk is sealed only once the next one has been read, because a full chunk is the
    last one exactly when nothing follows it."""
    aead = AESGCM(key)
    current, following = memoryview(bytearray(chunk_size)), memoryview(bytearray(chunk_size))
    outs = _output_buffers(chunk_size + TAG_SIZE, held_views)
    total = 0
    counter = 0
    n = _fill(readinto, current)
    while True:
        m = _fill(readinto, following) if n == chunk_size else 0
        last = m == 0
        sealed = outs[counter % len(outs)][: n + TAG_SIZE]
        aead.encrypt_into(chunk_nonce(prefix, counter, last), current[:n], None, sealed)
        write(sealed)
        total += n
        if progress:
            progress(n)
        if last:
            return total
        counter += 1
        current, following, n = following, current, m


def decrypt(
    key: bytes,
    prefix: bytes,
    chunk_size: int,
    readinto: ReadInto,
    write: Write,
    progress: Progress = None,
    *,
    held_views: int = 0,
) -> int:
    """Open the chunks ``readinto`` yields; ``write`` gets each chunk only after it
    authenticated (in its position, with its last flag). Returns the plaintext size.

    Raises CryptoFailure at the first chunk that fails; what was written before it is
    authentic but the stream is incomplete, so the caller must discard it."""
    aead = AESGCM(key)
    sealed_size = chunk_size + TAG_SIZE
    current, following = memoryview(bytearray(sealed_size)), memoryview(bytearray(sealed_size))
    outs = _output_buffers(chunk_size, held_views)
    total = 0
    counter = 0
    n = _fill(readinto, current)
    if n == 0:
        raise CryptoFailure()  # not even the one chunk an empty plaintext has
    while True:
        m = _fill(readinto, following) if n == sealed_size else 0
        last = m == 0
        if n < TAG_SIZE or (last and n == TAG_SIZE and counter > 0):
            # Too short for a tag, or an empty last chunk after others: encrypt never
            # writes one, so the encoding of each plaintext stays unique.
            raise CryptoFailure()
        plain = outs[counter % len(outs)][: n - TAG_SIZE]
        try:
            aead.decrypt_into(chunk_nonce(prefix, counter, last), current[:n], None, plain)
        except InvalidTag:
            raise CryptoFailure() from None
        write(plain)
        total += len(plain)
        if progress:
            progress(n)
        if last:
            return total
        counter += 1
        current, following, n = following, current, m
