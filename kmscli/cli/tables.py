"""--output table: a result as tables that fit the terminal, ids whole.

Two steps. ``sections`` turns a result into plain data, following aws-cli's table formatter
(awscli/formatter.py) for the shape of things: a list of objects is a table with a header, a
list of lists is rows, a list of scalars one column, an object a two-column table of field
and value (aws-cli turns it so as soon as it is wider than the terminal; here always), and
what an object holds beyond scalars comes after it, titled by its path. ``render`` lays the
sections out for a width and draws them; rich is imported only there.

How a table fits (the rules the tests hold it to):
- A word (an id, an ARN, an alias, a date, an enum value: any run without spaces) is never
  split over lines: it must stay copyable. A header is one word.
- Free text (a column holding spaces: a description, a tag value; the whole column, a
  one-word value in it too) is elided with "…" first,
  down to 12 characters; then a cell holding several values (a key's aliases) puts them one
  under the other.
- Below that minimum the table becomes one block per record, "field  value" lines, as
  `kubectl describe` and `gh` do; free text wraps there at spaces, and a word longer than the
  line is left whole (the terminal folds it, but it is still one line to copy).
- The width is COLUMNS when set, else the terminal's; off a terminal, without COLUMNS, there is
  no limit: a table written to a file is as wide as its content.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass

from .render import scalar_text
from .safe_text import escape

# The columns a person wants for each list AWS returns, in order; other fields stay in the
# JSON. Used for a command's own result; a --query result shows what the query chose.
TABLE_COLUMNS = {
    "Keys": ("KeyId", "Aliases", "KeySpec", "KeyUsage", "KeyState", "CreationDate", "Description"),
    "Aliases": ("AliasName", "TargetKeyId", "CreationDate", "LastUpdatedDate"),
    "Rotations": ("RotationDate", "RotationType", "KeyMaterialState", "KeyMaterialId"),
    "Tags": ("TagKey", "TagValue"),
}
# What a List result carries beside its list: paging.
_PAGING = frozenset({"Truncated", "NextMarker"})

GAP = 2  # spaces between columns, as kubectl and gh separate them
PROSE_MIN = 12  # free text is elided down to this many cells, never further


@dataclass
class Records:
    """A list: one row per item. ``columns`` is None for rows without a header (a query's
    list of lists or of scalars). A cell is a list of values (several: a key's aliases)."""

    title: str | None
    columns: list[str] | None
    rows: list[list[list[str]]]


@dataclass
class Pairs:
    """An object: one line per field."""

    title: str | None
    pairs: list[tuple[str, list[str]]]


@dataclass
class Line:
    """A bare scalar (`--query KeyMetadata.KeyId --output table`)."""

    text: str


# --- the shape ---------------------------------------------------------------------------------


def sections(value, *, curated: bool = True) -> list:
    """The sections of a result. ``curated``: a command's own result, whose known lists show
    the columns of TABLE_COLUMNS (and their header even when empty); False after --query."""
    if isinstance(value, dict):
        listing = _listing(value) if curated else None
        if listing is not None:
            name, items = listing
            out = [_records(name, items, curated=True)]
            rest = {k: v for k, v in value.items() if k != name and not (k == "Truncated" and v is False)}
            return out + (_object_sections(None, rest, curated) if rest else [])
        if len(value) == 1:
            (name, only), = value.items()
            if isinstance(only, dict):
                return _object_sections(name, only, curated)
        return _object_sections(None, value, curated)
    if isinstance(value, list):
        return _list_sections(None, value, curated)
    return [] if value is None else [Line(_items(value)[0])]


def _listing(value: dict):
    """A List result ({Keys: [...], Truncated, NextMarker}): its list comes first, and a known
    one shows its header even when empty. An empty list elsewhere (a key's "Aliases": [] in
    describe-key --detail) is only an empty value."""
    lists = [k for k, v in value.items() if isinstance(v, list)]
    if len(lists) != 1 or not set(value) - {lists[0]} <= _PAGING:
        return None
    name, items = lists[0], value[lists[0]]
    if items and all(isinstance(i, dict) for i in items):
        return name, items
    if not items and name in TABLE_COLUMNS:
        return name, items
    return None


def _object_sections(title, obj: dict, curated: bool) -> list:
    pairs, nested = [], []
    for k, v in obj.items():
        path = f"{title}.{k}" if title else str(k)
        if isinstance(v, dict) and v:
            nested += _object_sections(path, v, curated)
        elif isinstance(v, list) and any(isinstance(i, (dict, list)) for i in v):
            nested += _list_sections(path, v, curated)
        else:
            pairs.append((escape(str(k)), _items(v)))
    return ([Pairs(escape(title) if title else None, pairs)] if pairs else []) + nested


def _list_sections(title, items: list, curated: bool) -> list:
    if not items:
        return []
    if all(isinstance(i, dict) for i in items):
        return [_records(title, items, curated=curated)]
    # Lists are rows, scalars rows of one cell (aws-cli's rule); an object among them one cell.
    rows = [[_items(x) for x in item] if isinstance(item, list) else [_items(item)] for item in items]
    return [Records(escape(title) if title else None, None, rows)]


def _records(title, items: list, *, curated: bool) -> Records:
    present: list = []
    for item in items:
        present += [k for k in item if k not in present]
    known = TABLE_COLUMNS.get(title, ()) if curated else ()
    columns = list(known) if not items else [c for c in known if c in present] or present
    rows = [[_items(item.get(c)) for c in columns] for item in items]
    return Records(escape(title) if title else None, [escape(str(c)) for c in columns], rows)


def _items(value) -> list[str]:
    """A value as the texts of one cell: a scalar one, a list one per element, an object one
    per field ("k=v"). Escaped: a description must not drive the terminal."""
    if value is None:
        return []  # an empty cell, where text output writes None
    if isinstance(value, list):
        return [text for v in value for text in _items(v)]
    if isinstance(value, dict):
        return [f"{escape(str(k))}={','.join(_items(v))}" for k, v in value.items()]
    return [scalar_text(value)]


# --- the layout -----------------------------------------------------------------------------------


def table_width() -> int | None:
    """The width to fit: COLUMNS when set (as ls and git read it), else the terminal's; None
    (no limit) off a terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        try:
            return os.get_terminal_size(sys.stdout.fileno()).columns or 80
        except OSError:
            return 80
    return None


def _cell_len(text: str) -> int:
    from rich.cells import cell_len  # East Asian wide characters take two cells

    return cell_len(text)


@dataclass
class _Column:
    """One column of a Records, as the layout sees it."""

    header: str
    cells: list[list[str]]  # one per row; [] where a row is short
    prose: bool  # free text (a value holding a space): elided, never folded
    multi: bool  # a cell holds several values: they may go one under the other


def _columns(records: Records) -> list[_Column]:
    count = _column_count(records)
    headers = records.columns or [""] * count
    columns = []
    for i, header in enumerate(headers):
        cells = [row[i] if i < len(row) else [] for row in records.rows]
        prose = any(" " in value for cell in cells for value in cell)
        columns.append(_Column(header, cells, prose, any(len(c) > 1 for c in cells)))
    return columns


def column_widths(records: Records, width: int | None) -> list[int] | None:
    """The width of each column, or None when the table cannot fit ``width`` with every word
    whole (then it is drawn as blocks)."""
    return _fit(_columns(records), width)


def _fit(columns: list[_Column], width: int | None) -> list[int] | None:
    count = len(columns)
    prose = [c.prose for c in columns]
    multi = [c.multi for c in columns]
    natural, least = [], []
    for column in columns:
        cells = column.cells
        head = _cell_len(column.header)
        full = max([head] + [_cell_len(", ".join(c)) for c in cells])
        natural.append(full)
        if column.prose:
            least.append(max(head, min(full, PROSE_MIN)))
        else:  # every value whole; a comma stays with the value it follows
            words = [_cell_len(v) + (j < len(c) - 1) for c in cells for j, v in enumerate(c)]
            least.append(max([head] + words))
    chrome = GAP * (count - 1)
    if width is None or sum(natural) + chrome <= width:
        return natural
    if sum(least) + chrome > width:
        return None
    widths, excess = list(natural), sum(natural) + chrome - width
    # Free text first (the widest first), then cells of several values.
    for shrinkable in ([i for i in range(count) if prose[i]], [i for i in range(count) if multi[i] and not prose[i]]):
        while excess > 0:
            room = [i for i in shrinkable if widths[i] > least[i]]
            if not room:
                break
            widest = max(room, key=lambda i: widths[i])
            others = [widths[i] for i in room if i != widest]
            step = min(excess, widths[widest] - least[widest], max(1, widths[widest] - max(others, default=0)))
            widths[widest] -= step
            excess -= step
    # Several values wrap between values: such a column needs only its widest line, and what
    # that frees goes back to the free text.
    for i, column in enumerate(columns):
        if multi[i] and not prose[i] and widths[i] < natural[i]:
            lines = [line for cell in column.cells for line in _wrap(", ".join(cell), widths[i])]
            widths[i] = max([_cell_len(column.header)] + [_cell_len(line) for line in lines])
    slack = width - sum(widths) - chrome
    for i in sorted((i for i in range(count) if prose[i]), key=lambda i: widths[i] - natural[i]):
        grow = min(slack, natural[i] - widths[i])
        widths[i] += grow
        slack -= grow
    return widths


def _column_count(records: Records) -> int:
    if records.columns is not None:
        return len(records.columns)
    return max((len(row) for row in records.rows), default=0)


def _wrap(text: str, width: int | None) -> list[str]:
    """Text broken at spaces to ``width`` cells; a word longer than that stays whole."""
    if width is None or _cell_len(text) <= width:
        return [text]
    lines, line = [], ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and _cell_len(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line]


def record_lines(pairs: list[tuple[str, list[str]]], width: int | None, bold) -> list[str]:
    """One record as "field  value" lines, values wrapped under themselves."""
    label_width = max((_cell_len(label) for label, _ in pairs), default=0)
    indent = label_width + GAP if label_width else 0
    room = None if width is None else max(width - indent, 1)
    lines = []
    for label, cell in pairs:
        wrapped = _wrap(", ".join(cell), room)
        head = bold(label) + " " * (label_width - _cell_len(label) + GAP) if label_width else ""
        lines.append((head + wrapped[0]).rstrip())
        lines += [" " * indent + more for more in wrapped[1:]]
    return lines


# --- drawing ------------------------------------------------------------------------------------


def render(value, *, colour: bool, width: int | None, curated: bool = True) -> str:
    """The text of ``value`` as tables for ``width`` (None: no limit), every line ending in a
    newline; bold headers and titles only with ``colour``."""
    def bold(text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if colour and text else text

    blocks = []
    for section in sections(value, curated=curated):
        if isinstance(section, Line):
            blocks.append([section.text])
        elif isinstance(section, Pairs):
            blocks.append(([bold(section.title)] if section.title else []) + record_lines(section.pairs, width, bold))
        else:
            blocks.append(_records_lines(section, width, colour, bold))
    return "".join("\n".join(block) + "\n" for block in _spaced(blocks))


def _spaced(blocks: list[list[str]]):
    for i, block in enumerate(blocks):
        yield block if i == 0 else [""] + block


def _records_lines(records: Records, width: int | None, colour: bool, bold) -> list[str]:
    columns = _columns(records)
    widths = _fit(columns, width)
    if widths is None:
        return _blocks(records.title, columns, len(records.rows), width, bold)
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=Text(records.title, style="bold" if colour else "") if records.title else None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, GAP - 1, 0, 0),
        show_header=records.columns is not None,
        header_style="bold" if colour else "",
        style="",
        border_style="",
    )
    for column, w in zip(columns, widths):
        # Text, not markup: a description saying "[bold]" shows as written.
        overflow = "ellipsis" if column.prose else "fold"
        table.add_column(Text(column.header), width=w, no_wrap=column.prose, overflow=overflow, min_width=w, max_width=w)
    for n in range(len(records.rows)):
        table.add_row(*(Text(", ".join(column.cells[n])) for column in columns))
    total = sum(widths) + GAP * (len(widths) - 1)
    out = io.StringIO()
    console = Console(
        file=out,
        width=max(total, _cell_len(records.title or "")) + 1,
        force_terminal=colour,
        no_color=not colour,
        color_system="standard" if colour else None,
        highlight=False,
        soft_wrap=False,
        legacy_windows=False,
    )
    console.print(table, crop=False)
    return [line.rstrip() for line in out.getvalue().rstrip("\n").split("\n")]


def _blocks(title: str | None, columns: list[_Column], rows: int, width: int | None, bold) -> list[str]:
    """Below the table's minimum: one block per record, as kubectl and gh do."""
    lines = [bold(title)] if title else []
    for n in range(rows):
        if lines and (len(columns) > 1 or n == 0):  # a blank line between records of several fields
            lines.append("")
        lines += record_lines([(column.header, column.cells[n]) for column in columns], width, bold)
    return lines
