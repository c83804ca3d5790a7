"""Text spellings of bytes that every layer shares: the keyring's stored fields and the
blobs users pass on the command line are read by one strict base64 decoder.

Like ``specs`` and ``errors``, this module sits below every other layer and imports only the
standard library."""

from __future__ import annotations

import binascii

# binascii, not the base64 module: base64.b64encode and b64decode(validate=True) are these two
# calls, and importing base64 (and struct with it) cost every command ~2M instructions.


def b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def b64decode_strict(text: str, what: str, *, error: type[Exception]) -> bytes:
    """Strict base64: no stray characters (whitespace included), and only the canonical
    spelling of each value, so that one value has one text. A failure raises ``error`` with
    a message naming ``what``, never echoing the text."""
    try:
        data = binascii.a2b_base64(text, strict_mode=True)  # a str of ASCII; anything else: ValueError
    except (binascii.Error, ValueError):
        raise error(f"{what} is not valid base64") from None
    if b64encode(data) != text:
        raise error(f"{what} is not canonical base64")
    return data
