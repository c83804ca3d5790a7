"""kmscli.crypto.stream on its own: round trips of any length at a small chunk size, and any
single changed, dropped or added byte refused (property tests)."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmscli.crypto import CryptoFailure, stream

CHUNK = 1 << 16
KEY = bytes(range(32))
PREFIX = b"\x01" * stream.NONCE_PREFIX_SIZE


def seal(plaintext: bytes) -> bytes:
    out = io.BytesIO()
    stream.encrypt(KEY, PREFIX, CHUNK, io.BytesIO(plaintext).readinto, out.write)
    return out.getvalue()


def open_(sealed: bytes) -> bytes:
    out = io.BytesIO()
    stream.decrypt(KEY, PREFIX, CHUNK, io.BytesIO(sealed).readinto, out.write)
    return out.getvalue()


class ShortReads(io.RawIOBase):
    """A pipe that hands out at most 1000 bytes per read."""

    def __init__(self, data: bytes):
        self.data = memoryview(data)

    def readinto(self, buf) -> int:
        n = min(len(buf), 1000, len(self.data))
        buf[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


SIZES = st.one_of(st.integers(0, 3 * CHUNK + 100), st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK]))


@settings(max_examples=60, deadline=None)
@given(size=SIZES)
def test_round_trip_any_length(size):
    plaintext = os.urandom(size)
    sealed = seal(plaintext)
    assert len(sealed) == size + 16 * max(1, -(-size // CHUNK))
    assert open_(sealed) == plaintext


@settings(max_examples=60, deadline=None)
@given(size=SIZES, data=st.data())
def test_any_single_change_is_refused(size, data):
    sealed = bytearray(seal(os.urandom(size)))
    kind = data.draw(st.sampled_from(["flip", "drop", "add"]))
    at = data.draw(st.integers(0, len(sealed) - (0 if kind == "add" else 1)))
    if kind == "flip":
        sealed[at] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "drop":
        del sealed[at]
    else:
        sealed.insert(at, data.draw(st.integers(0, 255)))
    with pytest.raises(CryptoFailure):
        open_(bytes(sealed))


def test_short_reads_from_a_pipe_give_the_same_stream():
    plaintext = os.urandom(2 * CHUNK + 7)
    out = io.BytesIO()
    stream.encrypt(KEY, PREFIX, CHUNK, ShortReads(plaintext).readinto, out.write)
    assert out.getvalue() == seal(plaintext)
    back = io.BytesIO()
    stream.decrypt(KEY, PREFIX, CHUNK, ShortReads(out.getvalue()).readinto, back.write)
    assert back.getvalue() == plaintext


def test_nothing_is_released_from_a_chunk_that_fails():
    plaintext = os.urandom(2 * CHUNK + 5)
    sealed = bytearray(seal(plaintext))
    sealed[CHUNK + 16 + 3] ^= 1  # inside the second chunk
    released = io.BytesIO()
    with pytest.raises(CryptoFailure):
        stream.decrypt(KEY, PREFIX, CHUNK, io.BytesIO(bytes(sealed)).readinto, released.write)
    assert released.getvalue() == plaintext[:CHUNK]


def test_other_key_prefix_or_header_fails():
    sealed = seal(b"data")
    for key, prefix in ((bytes(32), PREFIX), (KEY, b"\x02" * 7)):
        with pytest.raises(CryptoFailure):
            stream.decrypt(key, prefix, CHUNK, io.BytesIO(sealed).readinto, io.BytesIO().write)
    salt = b"s" * 32
    assert stream.file_key(KEY, salt, b"header") != stream.file_key(KEY, salt, b"heades")
    assert stream.file_key(KEY, salt, b"header") != stream.file_key(KEY, b"t" * 32, b"header")
