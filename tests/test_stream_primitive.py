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


class HoldingWriter:
    """A write that keeps the last ``hold`` views, as a background writer does, and checks
    that none of them changed before it lets go of it."""

    def __init__(self, hold: int):
        self.hold = hold
        self.held: list[tuple[memoryview, bytes]] = []
        self.out = io.BytesIO()

    def __call__(self, view) -> None:
        self.held.append((view, bytes(view)))
        while len(self.held) > self.hold:
            self._release()

    def _release(self) -> None:
        view, seen = self.held.pop(0)
        if bytes(view) != seen:
            # Raised by hand: pytest would explain a failed `assert` with a diff of two
            # 64 KiB byte strings, which takes minutes when CI=true turns off truncation.
            raise AssertionError("a buffer was refilled while the writer still held it")
        self.out.write(view)

    def close(self) -> bytes:
        while self.held:
            self._release()
        return self.out.getvalue()


@pytest.mark.parametrize("hold", [1, 3, 6])
def test_views_held_by_the_writer_are_not_overwritten(hold):
    plaintext = os.urandom(5 * CHUNK + 7)
    sealing = HoldingWriter(hold)
    stream.encrypt(KEY, PREFIX, CHUNK, io.BytesIO(plaintext).readinto, sealing, held_views=hold)
    sealed = sealing.close()
    assert sealed == seal(plaintext)  # the same bytes as a writer that holds nothing
    opening = HoldingWriter(hold)
    stream.decrypt(KEY, PREFIX, CHUNK, io.BytesIO(sealed).readinto, opening, held_views=hold)
    assert opening.close() == plaintext


def test_a_writer_holding_more_views_than_it_said_sees_them_change():
    """The check above can fail: one view more than declared is one buffer too few."""
    with pytest.raises(AssertionError, match="refilled"):
        stream.encrypt(KEY, PREFIX, CHUNK, io.BytesIO(os.urandom(5 * CHUNK)).readinto, HoldingWriter(3), held_views=2)


def test_held_views_are_bounded():
    for bad in (-1, stream.MAX_HELD_VIEWS + 1):
        with pytest.raises(ValueError):
            stream.encrypt(KEY, PREFIX, CHUNK, io.BytesIO(b"x").readinto, io.BytesIO().write, held_views=bad)
