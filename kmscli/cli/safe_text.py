"""Hostile text stays text: what reaches a terminal from an untrusted place is escaped.

Key descriptions, tag values, alias names, file names and the text before BEGIN in a PEM
are chosen by whoever wrote them; printed raw, an ESC, CSI or OSC sequence among them would
drive the terminal (retitle it, rewrite earlier lines, plant a link). Text and table output
and every diagnostic line pass through ``escape``; JSON needs nothing (json escapes every
control character)."""

from __future__ import annotations


def escape(text: str, *, keep_space: bool = True) -> str:
    """``text`` with each character a terminal would act on instead of showing (C0 and C1
    controls, DEL, line and paragraph separators, bidirectional and other format
    characters) written as a Python-style escape: ESC is \\x1b, U+202E is \\u202e. Tabs and
    newlines are escaped too: in text output they would split a field or a row."""
    if text.isprintable():
        return text  # the usual case, at C speed
    out = []
    for c in text:
        if c.isprintable() or (keep_space and c == " "):
            out.append(c)
        else:
            code = ord(c)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def escape_json(text: str) -> str:
    """JSON text (json.dumps with ensure_ascii=False) with the non-printable characters
    json leaves as they are (DEL, C1 controls such as the 8-bit CSI, bidirectional
    overrides) written as \\u escapes: the same JSON value, harmless to a terminal."""
    if text.replace("\n", "").isprintable():
        return text  # the usual case, at C speed even for megabytes of list-keys
    out = []
    for c in text:
        if c.isprintable() or c == "\n":
            out.append(c)
        elif ord(c) < 0x10000:
            out.append(f"\\u{ord(c):04x}")
        else:  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
            code = ord(c) - 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
    return "".join(out)
