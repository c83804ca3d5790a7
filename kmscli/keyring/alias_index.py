"""The aliases' index: a cache of what would otherwise take reading every alias bucket.

Aliases are stored sealed, in buckets by a hash of their name (``aliases/3f.toml``, see
store.py), so that resolving or changing one reads and writes one small file. What a
bucket by hash cannot give is an order, or the aliases of one key; this index keeps both:

- ``index/aliases/top`` and its chunks (``index/aliases/c<8 hex>``): every alias, sorted
  by name, in chunks of at most CHUNK_MAX lines; ``top`` lists each chunk with the first
  name it holds. A page of ``list-aliases`` (or a completion) reads ``top`` and a chunk or
  two, whatever the number of aliases.
- ``index/aliases/targets/<2 hex>``: the aliases of each key, in buckets by the first two
  hex digits of the key id: the 50-aliases-per-key limit, ``list-aliases --key-id``, the
  aliases a destroyed key takes with it, and the aliases shown by ``list-keys --detail``.

Each line is ``NAME KEYID CREATED UPDATED`` (chunks) or ``KEYID NAME CREATED UPDATED``
(targets). The sealed buckets stay the truth; the index is never trusted over them:
resolving an alias reads its bucket, and a writer that acts on an alias found here (a key
destroyed, the limit counted) reads it again from its verified bucket.

It speaks for ``aliases/`` only while ``index/aliases/format`` names the modification time
``aliases/`` had after kmscli's last change there. A writer moves ``format`` aside (durably)
before it writes a bucket, then changes the index, and writes ``format`` again last: a
crash anywhere in between, or a bucket changed by anything but kmscli, leaves no valid
``format``, and the next writer rebuilds the index from the buckets (readers meanwhile read
every bucket: slower, never wrong). A bucket write that fails puts ``format`` back: nothing
changed.
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path

from ..errors import FileAccessException, KeyringDamagedException
from .fsutil import atomic_write, fsync_dir, make_private_dir, read_file, replace_unsynced
from .index import INDEX_DIR, IndexDamaged, ParsedFiles, _is_id, _seal, read_lines

ALIASES_DIR = "aliases"  # the keyring's sealed buckets, whose modification time is recorded
SUBDIR = "aliases"
TARGETS = "targets"
FORMAT_FILE = "format"
TOP_FILE = "top"
FORMAT_LINE = b"kmscli-alias-index 1\n"
TOP_HEADER = "kmscli-alias-top 1"
CHUNK_HEADER = "kmscli-alias-names 1"
TARGETS_HEADER = "kmscli-alias-targets 1"
CHUNK_MAX = 400  # lines of a chunk (about 36 KB); a fuller one is split in two
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/_-")
_DATE_CHARS = frozenset("0123456789-:T.+Z")

# One alias as the index keeps it: (name, target key id, CreationDate, LastUpdatedDate).
Row = tuple[str, str, str, str]


def _valid_name(name: str) -> bool:
    return name.startswith("alias/") and len(name) <= 256 and _NAME_CHARS.issuperset(name)


def _valid_date(text: str) -> bool:
    return 0 < len(text) <= 40 and _DATE_CHARS.issuperset(text)


def row_of(name: str, entry: dict) -> Row | None:
    """The index row of a bucket entry, or None if it cannot be one (an entry a hand edit
    left without a proper target: resolving it then says what is wrong)."""
    target, created, updated = (entry.get(f) for f in ("TargetKeyId", "CreationDate", "LastUpdatedDate"))
    if not (isinstance(target, str) and _is_id(target, "") and _valid_name(name)):
        return None
    created = created if isinstance(created, str) and _valid_date(created) else "-"
    updated = updated if isinstance(updated, str) and _valid_date(updated) else "-"
    return (name, target, created, updated)


class AliasIndex:
    def __init__(self, root: Path):
        self.root = root
        self.dir = root / INDEX_DIR / SUBDIR
        self._parsed = ParsedFiles()  # top, chunks and targets, as parsed

    # --- reading ---------------------------------------------------------------------------

    def _aliases_mtime(self) -> int | None:
        try:
            return os.stat(self.root / ALIASES_DIR).st_mtime_ns
        except FileNotFoundError:
            return None

    def _format_bytes(self, mtime: int | None) -> bytes:
        return FORMAT_LINE + (b"aliases-mtime none\n" if mtime is None else b"aliases-mtime %d\n" % mtime)

    def present(self) -> bool:
        """Whether the index speaks for aliases/ as it is now (see the module's docstring)."""
        try:
            raw = read_file(self.dir / FORMAT_FILE, limit=128)
        except (OSError, KeyringDamagedException):
            return False
        return raw == self._format_bytes(self._aliases_mtime())

    def _parsed_file(self, name: str, parse):
        """``parse()`` of the file ``name`` (relative to index/aliases), or the kept result
        while the file is unchanged."""
        return self._parsed.get(self.dir / name, parse)

    def _rows(self, lines: list[str], key_first: bool) -> list[Row]:
        rows = []
        for line in lines:
            parts = line.split(" ")
            if len(parts) != 4:
                raise IndexDamaged("alias index line")
            if key_first:
                parts[0], parts[1] = parts[1], parts[0]
            name, target, created, updated = parts
            if not (_valid_name(name) and _is_id(target, "") and (created == "-" or _valid_date(created))
                    and (updated == "-" or _valid_date(updated))):
                raise IndexDamaged("alias index line")
            rows.append((name, target, created, updated))
        return rows

    def _read_top(self) -> tuple[list[str], list[str]]:
        """(first names, chunk names), in order."""
        return self._parsed_file(TOP_FILE, self._parse_top)

    def _parse_top(self) -> tuple[list[str], list[str]]:
        firsts, chunks = [], []
        for line in read_lines(self.dir / TOP_FILE, TOP_HEADER):
            chunk, _, first = line.partition(" ")
            if len(chunk) != 9 or chunk[0] != "c" or not all(c in "0123456789abcdef" for c in chunk[1:]):
                raise IndexDamaged("alias index top")
            if first and not _valid_name(first):
                raise IndexDamaged("alias index top")
            firsts.append(first)
            chunks.append(chunk)
        if firsts != sorted(firsts) or (firsts and firsts[0] != ""):
            raise IndexDamaged("alias index top order")
        return firsts, chunks

    def _read_chunk(self, chunk: str) -> list[Row]:
        return self._parsed_file(
            chunk, lambda: sorted(self._rows(read_lines(self.dir / chunk, CHUNK_HEADER), key_first=False))
        )

    def rows_from(self, start: str, count: int) -> list[Row]:
        """Up to ``count`` aliases whose names are at or after ``start``, in order: a page of
        list-aliases. Reads ``top`` and the chunks the page spans. Raises IndexDamaged."""
        firsts, chunks = self._read_top()
        found: list[Row] = []
        at = max(0, bisect.bisect_right(firsts, start) - 1)
        for chunk in chunks[at:]:
            rows = self._read_chunk(chunk)
            rows = rows[bisect.bisect_left(rows, (start,)) :]
            found += rows[: count - len(found)]
            if len(found) >= count:
                break
        return found

    def rows_of_key(self, key_id: str) -> list[Row]:
        """The aliases whose target is ``key_id``, by name (as the index says). Raises IndexDamaged."""
        bucket = key_id[:2]
        rows = self._parsed_file(
            f"{TARGETS}/{bucket}",
            lambda: self._rows(read_lines(self._targets_path(bucket), TARGETS_HEADER), key_first=True),
        )
        return sorted(r for r in rows if r[1] == key_id)

    def _targets_path(self, bucket: str) -> Path:
        return self.dir / TARGETS / bucket

    # --- writing (under the writer lock) ------------------------------------------------------

    def suspend(self) -> Path | None:
        """Before the buckets change: the index stops speaking for aliases/, durably (its
        ``format`` is renamed aside and the directory synced), so that a crash after a
        bucket is written can never leave a ``format`` that vouches for an index the bucket
        no longer matches. Returns where ``format`` went, for ``resume`` or ``discard``."""
        aside = self.root / f".tmp-alias-index-format.{os.urandom(6).hex()}"
        try:
            os.rename(self.dir / FORMAT_FILE, aside)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise FileAccessException(f"cannot write {self.dir}: {e.strerror}") from None
        try:
            fsync_dir(self.dir)
        except OSError as e:
            self.resume(aside)
            raise FileAccessException(f"cannot write {self.dir}: {e.strerror}") from None
        return aside

    def resume(self, aside: Path | None) -> None:
        """The buckets were not changed after all: ``format`` back in place."""
        if aside is not None:
            try:
                os.rename(aside, self.dir / FORMAT_FILE)
            except OSError:
                pass  # then there is no format: the next writer rebuilds the index

    @staticmethod
    def discard(aside: Path | None) -> None:
        if aside is not None:
            try:
                os.unlink(aside)
            except OSError:
                pass  # a .tmp- file of the keyring directory: removed by the next writer

    def stamp(self) -> None:
        """After the buckets are written: the index speaks for aliases/ as it is now. Not
        synced: a lost stamp only makes the index be rebuilt."""
        replace_unsynced(self.dir / FORMAT_FILE, self._format_bytes(self._aliases_mtime()), temp_dir=self.root)

    def _write(self, path: Path, data: bytes) -> None:
        atomic_write(path, data, temp_dir=self.root)

    def _write_chunk(self, chunk: str, rows: list[Row]) -> None:
        self._write(self.dir / chunk, _seal(CHUNK_HEADER, (" ".join(r) for r in rows)))

    def _write_top(self, firsts: list[str], chunks: list[str]) -> None:
        self._write(self.dir / TOP_FILE, _seal(TOP_HEADER, (f"{c} {f}" for f, c in zip(firsts, chunks))))

    @staticmethod
    def _new_chunk_name() -> str:
        return "c" + os.urandom(4).hex()

    def _write_new_chunks(self, rows: list[Row], first: str) -> tuple[list[str], list[str]]:
        """``rows`` (sorted) written into new chunks of CHUNK_MAX // 2 (at least one, even
        empty): (the first name of each, ``first`` for the first one; the chunk names), for top."""
        step = CHUNK_MAX // 2
        pieces = [rows[i : i + step] for i in range(0, len(rows), step)] or [[]]
        names = [self._new_chunk_name() for _ in pieces]
        for name, piece in zip(names, pieces):
            self._write_chunk(name, piece)
        return [first] + [p[0][0] for p in pieces[1:]], names

    def _write_targets(self, bucket: str, rows) -> None:
        """The targets file of ``bucket`` holds ``rows`` (by key, then name); none: removed."""
        path = self._targets_path(bucket)
        if rows:
            ordered = sorted(rows, key=lambda r: (r[1], r[0]))
            self._write(path, _seal(TARGETS_HEADER, (f"{t} {n} {c} {u}" for n, t, c, u in ordered)))
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def apply(self, changes: list[tuple[Row | None, Row | None]]) -> None:
        """Each (old row, new row) of a change (None: absent before, or after) into the
        chunks and the targets. Call after the buckets are written, then ``stamp``. Raises IndexDamaged."""
        firsts, chunks = self._read_top()
        firsts, chunks = list(firsts), list(chunks)
        top_changed = False
        if not chunks:
            firsts, chunks, top_changed = [""], [self._new_chunk_name()], True
        by_chunk: dict[int, list[tuple[Row | None, Row | None]]] = {}
        for old, new in changes:
            name = (old or new)[0]
            by_chunk.setdefault(max(0, bisect.bisect_right(firsts, name) - 1), []).append((old, new))
        retired = []
        for at in sorted(by_chunk, reverse=True):  # from the end: splits shift what follows
            rows = {r[0]: r for r in self._read_chunk(chunks[at])}
            for old, new in by_chunk[at]:
                if old is not None:
                    rows.pop(old[0], None)
                if new is not None:
                    rows[new[0]] = new
            ordered = sorted(rows.values())
            if not ordered and at > 0:  # an emptied chunk leaves top (the first always stays)
                retired.append(chunks[at])
                del firsts[at], chunks[at]
                top_changed = True
                continue
            if len(ordered) <= CHUNK_MAX:
                self._write_chunk(chunks[at], ordered)
                continue
            # Split into new chunks (the old one stays in place until top no longer names it).
            retired.append(chunks[at])
            firsts[at : at + 1], chunks[at : at + 1] = self._write_new_chunks(ordered, firsts[at])
            top_changed = True
        if top_changed:
            self._write_top(firsts, chunks)
        for chunk in retired:
            self._parsed.forget(self.dir / chunk)
            try:
                os.unlink(self.dir / chunk)
            except FileNotFoundError:
                pass
        by_bucket: dict[str, list[tuple[Row | None, Row | None]]] = {}
        for old, new in changes:
            for row in (old, new):
                if row is not None:
                    by_bucket.setdefault(row[1][:2], [])
            if old is not None:
                by_bucket[old[1][:2]].append((old, None))
            if new is not None:
                by_bucket[new[1][:2]].append((None, new))
        make_private_dir(self.dir / TARGETS)
        for bucket, edits in by_bucket.items():
            rows = set(self._rows(read_lines(self._targets_path(bucket), TARGETS_HEADER), key_first=True))
            for old, new in edits:
                if old is not None:
                    rows = {r for r in rows if r[0] != old[0] or r[1] != old[1]}
                if new is not None:
                    rows = {r for r in rows if r[0] != new[0]}
                    rows.add(new)
            self._write_targets(bucket, rows)

    def rebuild(self, rows: list[Row]) -> None:
        """The whole index from every alias (``rows``, read from the buckets). ``format`` is
        removed first and written last: a rebuild cut short is done again."""
        import shutil

        make_private_dir(self.root / INDEX_DIR)
        make_private_dir(self.dir)
        try:
            os.unlink(self.dir / FORMAT_FILE)
        except FileNotFoundError:
            pass
        fsync_dir(self.dir)
        for name in os.listdir(self.dir):
            if name != FORMAT_FILE:
                path = self.dir / name
                if name == TARGETS:
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
        self._parsed.forget()
        rows = sorted(set(rows))
        self._write_top(*self._write_new_chunks(rows, ""))
        make_private_dir(self.dir / TARGETS)
        by_bucket: dict[str, list[Row]] = {}
        for row in rows:
            by_bucket.setdefault(row[1][:2], []).append(row)
        for bucket, entries in by_bucket.items():
            self._write_targets(bucket, entries)
        fsync_dir(self.dir / TARGETS)
        self.stamp()
