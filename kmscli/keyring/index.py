"""The keyring's index: a cache of what would otherwise take reading every key file.

Two things are kept, so that no command's cost grows with the number of keys:

- the **key ids**, in 4,096 buckets by their first three hex digits (``index/keys/3fa``),
  sorted, so that a page of ``list-keys`` (or a completion of a typed prefix) reads a few
  small files instead of listing and sorting ``keys/``, and a new key reads and rewrites one
  bucket of ~25 ids at 100,000 keys (with 256 buckets of ~400 ids, that rewrite made the
  cost of a new key grow by 1.2x from 6,000 keys to 100,000);
- what is **due**: for each key with a scheduled deletion or automatic rotation, its date,
  in a directory per UTC day and a file per first hex digit of the key id
  (``index/due/2027-03-04/3``), so that the sweep at the start of each write reads only the
  days that have come, not every key file.

The key files stay the truth; the index is never trusted over them:

- A due entry is only a hint of where to look: the sweep re-reads the key file, checks its
  integrity tag, and acts only on what the file itself says. A forged or stale entry costs
  one read and is dropped; it can neither destroy nor rotate a key.
- Every change is written to the index *before* the key file it describes, so a crash
  between the two leaves a hint too many, never one too few. A key file about to be created
  or deleted is written into its bucket as *unsure* (``?``): readers stat the file to know,
  and the next writer of that bucket settles it (kmscli/keyring/store.py has the order).
- Missing (``index/format`` absent: a keyring written before the index, or a rebuild cut
  short), of another layout (``format`` names another version: version 1 had 256 buckets
  of two hex digits) or damaged (a bad header or checksum): rebuilt from the key files by the next
  writer, under the writer lock; readers meanwhile list ``keys/`` as before the index.

Files are plain lines (parsing TOML would cost more than the listing it saves): a header
line, entries, and ``crc32 XXXXXXXX`` of everything before it. The checksum catches
accidental damage; tampering is what the re-verification above is for. Writes are atomic
(fsutil.atomic_write), with temp files in the keyring directory so that a writer never has
to list a large directory to remove what a crash left. docs/keyring-format.md describes it.
"""

from __future__ import annotations

import binascii
import bisect
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ..errors import KeyringDamagedException
from .fsutil import atomic_write, fsync_dir, make_private_dir, read_file, replace_unsynced, write_new_files

INDEX_DIR = "index"
KEYS_DIR = "keys"  # the keyring's, whose modification time the index records
FORMAT_FILE = "format"
KEYS_SUBDIR = "keys"
DUE_SUBDIR = "due"
# Version 2: key buckets of three hex digits. An index of version 1 (two digits) is not
# "present" (``Index.present``): readers list keys/ and the next writer rebuilds it.
FORMAT_LINE = b"kmscli-index 2\n"
KEYS_HEADER = "kmscli-key-index 2"
DUE_HEADER = "kmscli-due-index 1"
_HEX = "0123456789abcdef"
BUCKET_DIGITS = 3
# A page reads buckets by their paths, in order, while they are there; after this many empty
# or missing ones in a call (a keyring of a few hundred keys, where most of the 4,096 are
# missing) it lists index/keys/ once and reads only the buckets that exist. At 100,000 keys
# a bucket is empty with a probability of e**-24; at 10,000, 9%.
PROBES_BEFORE_LISTING = 8
_bucket_names: tuple[str, ...] | None = None


def bucket_names() -> tuple[str, ...]:
    """The 4,096 bucket names in order, "000" to "fff". Made when first asked: every writer
    imports this module, and only listings walk the names."""
    global _bucket_names
    if _bucket_names is None:
        _bucket_names = tuple(f"{n:03x}" for n in range(16**BUCKET_DIGITS))
    return _bucket_names
_ID_CHARS = frozenset(_HEX + "-")
SURE, UNSURE = "+", "?"


Undo = Callable[[], None]


class IndexDamaged(Exception):
    """An index file that does not parse or whose checksum fails: rebuild, never guess."""


def _seal(header: str, lines: Iterable[str]) -> bytes:
    # One join in C: a Python step per line was most of the index's CPU in a fill, where
    # every new key rewrites its bucket.
    body = ("\n".join((header, *lines)) + "\n").encode("ascii")
    return body + b"crc32 %08x\n" % binascii.crc32(body)


def _unseal_body(raw: bytes, header: str) -> bytes:
    """The lines of a sealed file after its header, as bytes (b"" when there are none),
    once its checksum and header are right. By offsets: a key bucket is read by every new
    key, so it is copied once here, not at each step."""
    end = len(raw)
    while end and raw[end - 1] == 0x0A:
        end -= 1
    cut = raw.rfind(b"\n", 0, end)  # the checksum line begins after it
    if cut < 0 or raw[cut + 1 : end] != b"crc32 %08x" % binascii.crc32(memoryview(raw)[: cut + 1]):
        raise IndexDamaged("checksum")
    first = raw.find(b"\n")
    if raw[:first] != header.encode("ascii"):
        raise IndexDamaged("header")
    return raw[first + 1 : cut]


def _unseal(raw: bytes, header: str) -> list[str]:
    rest = _unseal_body(raw, header)
    try:
        return rest.decode("ascii").split("\n") if rest else []
    except UnicodeDecodeError:
        raise IndexDamaged("not ASCII") from None


def _read_raw(path: Path | str) -> bytes | None:
    try:
        return read_file(path)
    except FileNotFoundError:
        return None
    except KeyringDamagedException:
        raise IndexDamaged(str(path)) from None  # a link, too large: rebuilt, not trusted


def read_body(path: Path | str, header: str) -> bytes:
    """The lines after the header of the sealed index file ``path``, as bytes (b"" when
    the file is missing: an empty bucket or chunk). Raises IndexDamaged."""
    raw = _read_raw(path)
    return b"" if raw is None else _unseal_body(raw, header)


def read_lines(path: Path | str, header: str) -> list[str]:
    """read_body's lines ([] when the file is missing). Raises IndexDamaged."""
    raw = _read_raw(path)
    return [] if raw is None else _unseal(raw, header)


class ParsedFiles:
    """Index files as parsed, each kept while its file is unchanged (inode, size,
    modification time): following NextMarker through a whole listing parses each file once,
    and a long-lived reader (`kmscli serve`) still sees what other processes write. The
    stat comes before the read, so a file replaced in between is parsed again next time."""

    def __init__(self):
        self._kept: dict[Path, tuple[tuple | None, object]] = {}

    def get(self, path: Path | str, parse):
        """``parse()`` of ``path`` (which reads it), or the kept result."""
        try:
            st = os.stat(path)
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        kept = self._kept.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        value = parse()
        self._kept[path] = (stamp, value)
        return value

    def forget(self, path: Path | str | None = None) -> None:
        """Drop what is kept of ``path`` (of every file: None)."""
        if path is None:
            self._kept.clear()
        else:
            self._kept.pop(path, None)


def _is_id(text: str, prefix: str) -> bool:
    # The cheap form of store.is_key_id, run on every id a listing reads: an id from the
    # index may become a path (a stat) and is printed, so it must be a canonical UUID.
    return (
        len(text) == 36
        and text.startswith(prefix)
        and text[8] == text[13] == text[18] == text[23] == "-"
        and text.count("-") == 4
        and _ID_CHARS.issuperset(text)
    )


# What a line of a key bucket must look like, character by character, once each character is
# replaced by its class (_CLASSES): a marker, hex digits and dashes as in a key id, a newline.
_CLASSES = bytearray(b"x" * 256)
for _c in _HEX.encode("ascii"):
    _CLASSES[_c] = ord("h")
_CLASSES[ord(SURE)] = _CLASSES[ord(UNSURE)] = ord("m")
_CLASSES[ord("-")], _CLASSES[ord("\n")] = ord("-"), ord("\n")
_CLASSES = bytes(_CLASSES)
_LINE_CLASSES = b"m" + b"-".join(b"h" * n for n in (8, 4, 4, 4, 12)) + b"\n"


def _bucket_lines_valid(body: bytes, n: int, bucket: str) -> bool:
    """Whether ``body`` is ``n`` lines of "+" or "?" and a key id of ``bucket``. Checked on
    every bucket a listing or a write reads, so by operations that run in C over the whole
    body at once (one translate, one comparison, a slice per digit of the bucket's name:
    column k of every line is body[k::38]), never a Python step per line or per character:
    a whole listing checks every id of the keyring."""
    return (
        len(body) == 38 * n - 1
        and body.translate(_CLASSES) == (_LINE_CLASSES * n)[:-1]
        and all(body[k + 1 :: 38] == bucket[k].encode() * n for k in range(BUCKET_DIGITS))
    )


def _split_bucket(text: str) -> tuple[list[str], list[str]]:
    """(sure ids, unsure ids) of a valid bucket's lines. Writers put the unsure lines last,
    so each part is one split in C; a bucket in another order is split line by line."""
    at = text.find(UNSURE)
    sure_text, unsure_text = (text, "") if at < 0 else (text[: max(at - 1, 0)], text[at:])
    if SURE in unsure_text:
        lines = text.split("\n")
        return [line[1:] for line in lines if line[0] == SURE], [line[1:] for line in lines if line[0] == UNSURE]
    return (sure_text[1:].split("\n" + SURE) if sure_text else []), (unsure_text[1:].split("\n" + UNSURE) if unsure_text else [])


def _bucket_lines(sure: list[str], unsure: list[str]) -> list[str]:
    # Sure ids first, in one join; unsure ones last (what _split_bucket expects).
    return ([SURE + "\n+".join(sure)] if sure else []) + [UNSURE + k for k in unsure]


class Index:
    """The index of the keyring at ``root``. ``exists(key_id)`` says whether a key file is
    there (the store's stat); ``temp_dir`` is where atomic writes make their temp files."""

    def __init__(self, root: Path, exists: Callable[[str], bool]):
        self.root = root
        self.dir = root / INDEX_DIR
        self.exists = exists
        self._buckets = ParsedFiles()  # bucket path (a str) -> (sure ids, unsure ids)
        # Bucket paths are made by joining strings: a listing reads thousands of buckets,
        # and pathlib's join cost more than the read of a small bucket.
        self._keys_prefix = os.path.join(self.dir, KEYS_SUBDIR, "")
        self._resolved: dict[str, tuple[list[str], tuple, list[str]]] = {}  # sure ids, unsure present, merged

    def _write(self, path: Path, data: bytes) -> None:
        atomic_write(path, data, temp_dir=self.root)

    # --- the whole index ---------------------------------------------------------------------

    def present(self) -> bool:
        """Whether the index is there and speaks for keys/ as it is now: ``format`` names
        the version and the modification time keys/ had after the last change kmscli made.
        Any other change to keys/ (a key file copied in or removed by hand, a writer of
        a kmscli from before the index, a crash between a key file and this stamp) moves
        that time, and the index is then rebuilt by the next writer; readers meanwhile
        list keys/."""
        try:
            raw = read_file(self.dir / FORMAT_FILE, limit=128)
            mtime = os.stat(self.root / KEYS_DIR).st_mtime_ns
        except (OSError, KeyringDamagedException):
            return False  # missing, a link, too large...: no index, rebuilt by the next writer
        return raw == FORMAT_LINE + b"keys-mtime %d\n" % mtime

    def stamp(self, *, durable: bool = False) -> None:
        """After kmscli changed keys/: record its modification time (see ``present``).
        Not synced after each key write: lost in a power cut, the old stamp no longer
        matches keys/ (whose change was synced first) and the index is rebuilt."""
        mtime = os.stat(self.root / KEYS_DIR).st_mtime_ns
        data = FORMAT_LINE + b"keys-mtime %d\n" % mtime
        if durable:
            self._write(self.dir / FORMAT_FILE, data)
        else:
            replace_unsynced(self.dir / FORMAT_FILE, data, temp_dir=self.root)

    def rebuild(self, key_ids: list[str], due: Iterable[tuple[str, str]]) -> None:
        """Write the whole index from ``key_ids`` (every key file) and ``due`` ((when, key
        id) pairs). ``format`` is removed first and written last: a rebuild cut short leaves
        no index, which the next writer rebuilds again."""
        import shutil

        make_private_dir(self.dir)
        try:
            os.unlink(self.dir / FORMAT_FILE)
            fsync_dir(self.dir)
        except FileNotFoundError:
            pass
        for sub in (KEYS_SUBDIR, DUE_SUBDIR):
            shutil.rmtree(self.dir / sub, ignore_errors=True)
            make_private_dir(self.dir / sub)
        by_bucket: dict[str, list[str]] = {}
        for key_id in key_ids:
            by_bucket.setdefault(key_id[:BUCKET_DIGITS], []).append(key_id)
        # Every non-empty bucket (all 4,096 from ~30,000 keys on) into the emptied directory:
        # written first and synced together (write_new_files), not one atomic write and two
        # fsyncs each, which cost 4 s for 4,096 files on this machine. Nothing reads them
        # before ``format`` is written, last.
        write_new_files(
            {self.dir / KEYS_SUBDIR / bucket: _seal(KEYS_HEADER, _bucket_lines(sorted(ids), [])) for bucket, ids in by_bucket.items()}
        )
        by_file: dict[tuple[str, str], set] = {}
        for when, key_id in due:
            by_file.setdefault((when[:10], key_id[0]), set()).add(f"{when} {key_id}")
        for (day, digit), entries in by_file.items():
            make_private_dir(self.dir / DUE_SUBDIR / day)
            self._write(self.dir / DUE_SUBDIR / day / digit, _seal(DUE_HEADER, sorted(entries)))
        fsync_dir(self.dir / DUE_SUBDIR)
        self._buckets.forget()
        self.stamp(durable=True)

    # --- key ids -------------------------------------------------------------------------------

    def _read_bucket(self, bucket: str) -> tuple[list[str], list[str]]:
        """(sure ids, sorted; unsure ids) of one bucket; a missing file is an empty bucket.
        Kept while the file is unchanged (ParsedFiles)."""
        path = self._keys_prefix + bucket

        def parse() -> tuple[list[str], list[str]]:
            body = read_body(path, KEYS_HEADER)
            if body and not _bucket_lines_valid(body, (len(body) + 1) // 38, bucket):
                raise IndexDamaged(bucket)
            sure, unsure = _split_bucket(body.decode("ascii"))
            sure.sort()  # sorted as written: one pass in C
            return sure, unsure

        return self._buckets.get(path, parse)

    def _bucket_ids(self, bucket: str) -> list[str]:
        sure, unsure = self._read_bucket(bucket)
        if not unsure:
            return sure
        present = tuple(k for k in unsure if self.exists(k))  # looked at every time: files come and go
        cached = self._resolved.get(bucket)
        if cached is not None and cached[0] is sure and cached[1] == present:
            return cached[2]
        ids = sorted({*sure, *present})
        self._resolved[bucket] = (sure, present, ids)
        return ids

    def ids_from(self, start: str, count: int) -> list[str]:
        """Up to ``count`` key ids at or after ``start`` (a key id or a prefix), in order.
        Raises IndexDamaged."""
        found: list[str] = []
        first = (start + "0" * BUCKET_DIGITS)[:BUCKET_DIGITS]
        # Buckets are read by their paths while most are there (a large keyring: a page of
        # 100 reads about 4 of ~25 ids, and following NextMarker through 100,000 keys lists
        # no directory 1,000 times); after PROBES_BEFORE_LISTING empty ones, the buckets
        # that exist are listed once, rather than a path and a stat for each of the 4,096
        # (a keyring of a few keys has a few buckets). A bucket written meanwhile is missed
        # as it would have been had the listing run a moment earlier.
        existing: frozenset | None = None
        empty = 0
        names = bucket_names()
        for bucket in names[bisect.bisect_left(names, first) :]:
            if existing is not None and bucket not in existing:
                continue
            ids = self._bucket_ids(bucket)
            if not ids and existing is None:
                empty += 1
                if empty >= PROBES_BEFORE_LISTING:
                    try:
                        existing = frozenset(os.listdir(self.dir / KEYS_SUBDIR))
                    except FileNotFoundError:
                        break
                continue
            if bucket == first and start:
                ids = ids[bisect.bisect_left(ids, start) :]
            found += ids[: count - len(found)]
            if len(found) >= count:
                break
        return found

    def note_key_change(self, key_id: str) -> Undo:
        """Before a key file is created or deleted: mark it unsure in its bucket (settling the
        bucket's other unsure ids by their files). Raises IndexDamaged."""
        bucket = key_id[:BUCKET_DIGITS]
        sure, unsure = self._read_bucket(bucket)
        # The sorted ids changed in place (a copy: the parsed bucket is kept), not a set
        # sorted again: this runs for every key created or deleted.
        settled = list(sure)
        for k in {key_id, *(k for k in unsure if k != key_id and self.exists(k))}:
            at = bisect.bisect_left(settled, k)
            present = at < len(settled) and settled[at] == k
            if k == key_id and present:
                del settled[at]
            elif k != key_id and not present:
                settled.insert(at, k)
        undo = self._undo(self.dir / KEYS_SUBDIR / bucket)
        self._write_bucket(bucket, settled, [key_id])
        return undo

    def _undo(self, path: Path) -> Undo:
        """How to put ``path`` back as it is now, should the key file change it announces
        fail: a failed command changes nothing on disk, not even a harmless hint."""
        try:
            previous = read_file(path)
        except FileNotFoundError:
            previous = None

        def undo() -> None:
            self._buckets.forget()
            if previous is None:
                os.unlink(path)
            else:
                self._write(path, previous)

        return undo

    def _write_bucket(self, bucket: str, sure: list[str], unsure: list[str]) -> None:
        self._write(self.dir / KEYS_SUBDIR / bucket, _seal(KEYS_HEADER, _bucket_lines(sure, unsure)))
        self._buckets.forget(self._keys_prefix + bucket)

    # --- what is due ---------------------------------------------------------------------------

    def _due_path(self, day: str, digit: str) -> Path:
        return self.dir / DUE_SUBDIR / day / digit

    def _read_due(self, path: Path) -> list[str]:
        entries = read_lines(path, DUE_HEADER)
        for entry in entries:
            when, _, key_id = entry.partition(" ")
            if len(when) != 25 or not _is_id(key_id, ""):
                raise IndexDamaged(str(path))
        return entries

    def add_due(self, key_id: str, when: str) -> Undo | None:
        """Record that ``key_id`` has something due at ``when`` (ISO 8601 UTC, to the
        second), unless it is recorded already. Raises IndexDamaged."""
        day = when[:10]
        path = self._due_path(day, key_id[0])
        entries = self._read_due(path)
        entry = f"{when} {key_id}"
        if entry in entries:
            return None
        make_private_dir(path.parent)
        undo = self._undo(path)
        self._write(path, _seal(DUE_HEADER, sorted({*entries, entry})))
        return undo

    def due_files(self, now: str) -> list[tuple[Path, list[tuple[str, str]]]]:
        """Every due file of a day that has begun by ``now``, with its (when, key id)
        entries: the sweep's whole reading. Raises IndexDamaged."""
        try:
            days = sorted(d for d in os.listdir(self.dir / DUE_SUBDIR) if d <= now[:10] and len(d) == 10)
        except FileNotFoundError:
            return []
        found = []
        for day in days:
            for digit in sorted(os.listdir(self.dir / DUE_SUBDIR / day)):
                if len(digit) != 1:
                    continue
                path = self._due_path(day, digit)
                found.append((path, [tuple(e.split(" ", 1)) for e in self._read_due(path)]))
        return found

    def keep_due(self, path: Path, kept: list[tuple[str, str]]) -> None:
        """Rewrite a due file with only ``kept`` (after the sweep has done the rest); the
        file, and its day once empty, go when nothing is kept."""
        if kept:
            self._write(path, _seal(DUE_HEADER, sorted(f"{w} {k}" for w, k in kept)))
            return
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        try:
            os.rmdir(path.parent)
            fsync_dir(path.parent.parent)
        except OSError:
            fsync_dir(path.parent)  # other files of that day remain
