"""The TOML that kmscli writes, read without importing tomllib (start-up time).

Importing tomllib compiles its regular expressions and the ``string`` module's (~11M
instructions, ~3 ms: a quarter of what encrypt in a session costs above its floor in
bench/startup.sh), and every command reads keyring.toml and a key file. Those files are
what tomli_w wrote: ``key = value`` lines of bare keys, basic strings without escapes,
integers and booleans, under ``[table]`` and ``[[array]]`` headers of bare names.

:func:`loads` reads exactly that and nothing else: a line, key or value of any other shape
(comments, dotted or quoted keys, escapes, arrays, floats, dates, a repeated key or table,
"\\r"), and it returns None, and the caller asks tomllib, which then decides, errors
included. So whatever this returns is what tomllib would return for the same text
(tests/test_plain_toml.py checks it on kmscli's files and on damaged copies of them).
"""

from __future__ import annotations

# TOML's bare keys: ASCII letters, digits, "_" and "-".
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# What a basic string may not hold unescaped: the control characters other than tab, '"', '\'.
_NOT_IN_STRING = frozenset([*map(chr, range(0x09)), *map(chr, range(0x0A, 0x20)), "\x7f", '"', "\\"])
_DIGITS = frozenset("0123456789")


def _bare(name: str) -> bool:
    return bool(name) and _BARE.issuperset(name)


def _value(text: str):
    """The value of a ``key = value`` line, or _NO when it is not of the plain shapes."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        return inner if _NOT_IN_STRING.isdisjoint(inner) else _NO
    if text == "true":
        return True
    if text == "false":
        return False
    digits = text[1:] if text[:1] == "-" else text
    # TOML's integers are 64-bit (19 digits); a longer one is tomllib's to judge.
    if 0 < len(digits) <= 19 and _DIGITS.issuperset(digits) and (digits == "0" or digits[0] != "0"):
        return int(text)
    return _NO


_NO = object()


def loads(text: str) -> dict | None:
    """The document, when ``text`` is of the plain shapes only; else None (ask tomllib)."""
    if "\r" in text:
        return None
    root: dict = {}
    arrays: set[str] = set()  # the root names that [[name]] made
    table = root
    for line in text.split("\n"):
        if not line:
            continue
        if line[0] == "[":
            if line.startswith("[[") and line.endswith("]]"):
                name = line[2:-2]
                if not _bare(name):
                    return None
                if name in root:
                    if name not in arrays:
                        return None
                else:
                    root[name] = []
                    arrays.add(name)
                table = {}
                root[name].append(table)
            elif line.endswith("]"):
                name = line[1:-1]
                if not _bare(name) or name in root:
                    return None
                table = root[name] = {}
            else:
                return None
            continue
        key, sep, value = line.partition(" = ")
        if not sep or not _bare(key) or key in table:
            return None
        value = _value(value)
        if value is _NO:
            return None
        table[key] = value
    return root
