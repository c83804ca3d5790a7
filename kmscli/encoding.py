"""Text spellings of bytes that every layer shares: the keyring's stored fields and the
blobs users pass on the command line are read by one strict base64 decoder.

Like ``specs`` and ``errors``, this module sits below every other layer and imports only the
standard library."""

from __future__ import annotations

import base64
import binascii


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str, what: str, *, error: type[Exception]) -> bytes:
    """Strict base64: no stray characters (whitespace included), and only the canonical
    spelling of each value, so that one value has one text. A failure raises ``error`` with
    a message naming ``what``, never echoing the text."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise error(f"{what} is not valid base64") from None
    if b64encode(data) != text:
        raise error(f"{what} is not canonical base64")
    return data
