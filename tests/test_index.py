"""The keyring index (kmscli/keyring/index.py): the sweep reads only the keys that are due,
a missing or damaged index is rebuilt from the key files, a forged entry changes nothing,
and list-keys pages stay stable while keys are added. Small sizes: bench/scale.py measures."""

from __future__ import annotations

import binascii
import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import PASSPHRASE
from lifecycle_util import T0

from kmscli import service  # noqa: F401 - the sweep and the index's due dates, as every writer has them
from kmscli.errors import NotFoundException
from kmscli.keyring import Keyring
from kmscli.keyring import index as index_mod
from kmscli.service import keys, rotation, state


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def days(self, n: float) -> None:
        self.now = T0 + dt.timedelta(days=n)


@pytest.fixture
def ring(tmp_path):
    clock = Clock()
    Keyring.create(tmp_path / "k", PASSPHRASE.encode(), scrypt_log2_n=10, clock=clock)
    return reopen(tmp_path / "k", clock), clock


def reopen(path: Path, clock) -> Keyring:
    return Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()), clock=clock)


def new_keys(keyring, n: int) -> list[str]:
    return [keys.create_key(keyring)["KeyMetadata"]["KeyId"] for _ in range(n)]


def reads_during(monkeypatch, action) -> list[str]:
    """The key ids whose files ``action`` reads."""
    seen = []
    real = Keyring.load_key

    def counting(self, key_id, **kw):
        seen.append(key_id)
        return real(self, key_id, **kw)

    monkeypatch.setattr(Keyring, "load_key", counting)
    action()
    monkeypatch.undo()
    return seen


def all_ids(keyring) -> list[str]:
    return [k["KeyId"] for k in keys.list_keys(keyring, limit=1000)["Keys"]]


def test_a_write_reads_no_key_file_when_nothing_is_due(ring, monkeypatch):
    keyring, clock = ring
    new_keys(keyring, 20)
    assert reads_during(monkeypatch, lambda: new_keys(keyring, 1)) == []


def test_the_sweep_reads_only_the_keys_that_are_due(ring, monkeypatch):
    keyring, clock = ring
    ids = new_keys(keyring, 30)
    doomed, rotating, later = ids[3], ids[7], ids[11]
    state.schedule_key_deletion(keyring, doomed, pending_window_in_days=7)
    rotation.enable_key_rotation(keyring, rotating, rotation_period_in_days=90)
    state.schedule_key_deletion(keyring, later, pending_window_in_days=30)

    clock.days(8)
    assert sorted(reads_during(monkeypatch, lambda: new_keys(keyring, 1))) == [doomed]
    assert doomed not in all_ids(keyring)

    clock.days(91)
    # the rotation falls due; the deletion 30 days out came due on day 30
    assert sorted(reads_during(monkeypatch, lambda: new_keys(keyring, 1))) == sorted([rotating, later])
    assert len(keyring.load_key(rotating)["materials"]) == 2
    assert later not in all_ids(keyring)
    # and the next write has nothing to read: the rotation's next date is 90 days away
    assert reads_during(monkeypatch, lambda: new_keys(keyring, 1)) == []


def test_a_missing_index_is_rebuilt_from_the_key_files(ring):
    keyring, clock = ring
    ids = sorted(new_keys(keyring, 12))
    state.schedule_key_deletion(keyring, ids[0], pending_window_in_days=7)
    shutil.rmtree(keyring.path / "index")

    fresh = reopen(keyring.path, clock)
    assert all_ids(fresh) == ids  # readers list keys/ meanwhile
    clock.days(8)
    new_keys(fresh, 1)  # the next write rebuilds it, and the rebuilt due dates still act
    assert fresh.index.present()
    assert ids[0] not in all_ids(fresh)
    assert fresh.index.ids_from("", 100) == fresh.key_ids()


def test_a_rebuild_parses_only_the_key_files_that_can_have_something_due(ring, monkeypatch):
    keyring, clock = ring
    ids = sorted(new_keys(keyring, 12))
    state.schedule_key_deletion(keyring, ids[0], pending_window_in_days=7)
    rotation.enable_key_rotation(keyring, ids[1], rotation_period_in_days=90)
    state.disable_key(keyring, ids[2])
    shutil.rmtree(keyring.path / "index")
    fresh = reopen(keyring.path, clock)
    read = reads_during(monkeypatch, fresh.rebuild_index)
    assert sorted(read) == sorted(ids[:2])  # the others hold neither a deletion nor a rotation
    due = [entry for _, entries in fresh.index.due_files("9999-12-31T00:00:00+00:00") for entry in entries]
    assert sorted(key_id for _, key_id in due) == sorted(ids[:2])


def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_damaged_key_bucket_is_rebuilt(ring):
    keyring, clock = ring
    ids = sorted(new_keys(keyring, 12))
    victim = ids[5]
    state.schedule_key_deletion(keyring, victim, pending_window_in_days=7)
    corrupt(keyring.path / "index" / "keys" / victim[:3])

    fresh = reopen(keyring.path, clock)
    with pytest.raises(index_mod.IndexDamaged):
        fresh.index.ids_from(victim[:3], 100)
    assert all_ids(fresh) == ids  # list-keys falls back on keys/, never on a damaged bucket
    clock.days(8)
    new_keys(fresh, 1)  # deleting the victim touches the damaged bucket: rebuilt
    assert victim not in all_ids(fresh)
    assert fresh.index.ids_from("", 100) == fresh.key_ids()


def test_a_damaged_due_file_is_rebuilt_and_nothing_due_is_missed(ring):
    keyring, clock = ring
    ids = new_keys(keyring, 5)
    state.schedule_key_deletion(keyring, ids[2], pending_window_in_days=7)
    (due_file,) = (keyring.path / "index" / "due").rglob("?")
    corrupt(due_file)
    clock.days(8)
    new_keys(keyring, 1)
    with pytest.raises(NotFoundException):
        keyring.load_key(ids[2])


def forge_due_entry(keyring, key_id: str, when: dt.datetime) -> None:
    """What someone with write access to the keyring could write: a well-formed entry."""
    stamp = when.isoformat(timespec="seconds")
    day = keyring.path / "index" / "due" / stamp[:10]
    day.mkdir(mode=0o700, exist_ok=True)
    path = day / key_id[0]
    entries = path.read_text().splitlines()[1:-1] if path.exists() else []
    body = "".join(line + "\n" for line in [index_mod.DUE_HEADER, *entries, f"{stamp} {key_id}"]).encode()
    path.write_bytes(body + b"crc32 %08x\n" % binascii.crc32(body))


def test_a_forged_due_entry_neither_destroys_nor_rotates(ring, monkeypatch):
    keyring, clock = ring
    enabled, rotating, scheduled = new_keys(keyring, 3)
    rotation.enable_key_rotation(keyring, rotating, rotation_period_in_days=365)
    deletion = state.schedule_key_deletion(keyring, scheduled, pending_window_in_days=30)["DeletionDate"]
    for key_id in (enabled, rotating, scheduled):
        forge_due_entry(keyring, key_id, T0 + dt.timedelta(days=1))
    before = {k: keyring.load_key(k) for k in (enabled, rotating, scheduled)}

    clock.days(2)
    read = reads_during(monkeypatch, lambda: new_keys(keyring, 1))
    assert sorted(read) == sorted([enabled, rotating, scheduled])  # each forged entry: one check
    for key_id, doc in before.items():
        assert keyring.load_key(key_id) == doc  # nothing destroyed, nothing rotated
    # the forged entries are gone, the real dates still stand
    assert reads_during(monkeypatch, lambda: new_keys(keyring, 1)) == []
    clock.days(31)
    new_keys(keyring, 1)
    assert scheduled not in all_ids(keyring) and deletion


def test_a_forged_key_bucket_entry_is_not_a_key(ring):
    keyring, clock = ring
    (real,) = new_keys(keyring, 1)
    ghost = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    body = f"{index_mod.KEYS_HEADER}\n?{ghost}\n".encode()
    (keyring.path / "index" / "keys" / "000").write_bytes(body + b"crc32 %08x\n" % binascii.crc32(body))
    assert all_ids(reopen(keyring.path, clock)) == [real]  # unsure: its file is looked for


def test_pages_are_stable_while_keys_are_added(ring):
    keyring, clock = ring
    first = set(new_keys(keyring, 25))
    seen: list[str] = []
    page = keys.list_keys(keyring, limit=7)
    while True:
        seen += [k["KeyId"] for k in page["Keys"]]
        new_keys(keyring, 3)  # between pages, as another process might
        if not page["Truncated"]:
            break
        page = keys.list_keys(keyring, limit=7, marker=page["NextMarker"])
    assert seen == sorted(seen) and len(seen) == len(set(seen))  # in order, nothing twice
    assert first <= set(seen)  # every key that was there from the start, whatever was added


def test_a_keyring_from_before_the_index_opens_lists_and_gets_one_at_the_next_write(ring):
    keyring, clock = ring
    ids = sorted(new_keys(keyring, 4))
    shutil.rmtree(keyring.path / "index")  # as every keyring written before the index is
    old = reopen(keyring.path, clock)
    assert all_ids(old) == ids
    assert not old.index.present()
    new_keys(old, 1)
    assert old.index.present() and len(old.index.ids_from("", 100)) == 5


def test_a_key_file_restored_by_hand_is_listed_and_its_schedule_kept(ring, tmp_path):
    keyring, clock = ring
    kept, restored = new_keys(keyring, 2)
    state.schedule_key_deletion(keyring, restored, pending_window_in_days=7)
    backup = tmp_path / "backup.toml"
    shutil.copy2(keyring.path / "keys" / f"{restored}.toml", backup)
    (keyring.path / "keys" / f"{restored}.toml").unlink()  # lost by hand...
    assert all_ids(reopen(keyring.path, clock)) == [kept]
    shutil.copy2(backup, keyring.path / "keys" / f"{restored}.toml")  # ...and restored
    assert sorted(all_ids(reopen(keyring.path, clock))) == sorted([kept, restored])
    clock.days(8)
    new_keys(keyring, 1)  # the index is rebuilt, with the restored key's deletion date
    assert restored not in all_ids(keyring)


def test_completion_offers_longer_prefixes_instead_of_too_many_ids(ring):
    from kmscli.cli.options import key_id_candidates

    keyring, clock = ring
    ids = sorted(new_keys(keyring, 40))
    got, more = key_id_candidates(keyring, "", limit=100)
    assert (got, more) == (ids, False)
    got, more = key_id_candidates(keyring, "", limit=5)
    assert more and len(got) >= 2
    # every key is under exactly one offered prefix, and each prefix leads somewhere
    assert all(sum(k.startswith(p) for p in got) == 1 for k in ids)
    assert all(any(k.startswith(p) for k in ids) for p in got)
    one = ids[17]
    assert key_id_candidates(keyring, one[:12], limit=5) == ([k for k in ids if k.startswith(one[:12])], False)
    assert key_id_candidates(keyring, one, limit=5) == ([one], False)
    assert key_id_candidates(keyring, "alias/x", limit=5) == ([], False)


@pytest.mark.parametrize(
    "line",
    [
        "+00000000-0000-4000-8000-00000000000G",  # not hex
        "+00000000-0000-4000-8000-00000000000A",  # upper case: not canonical
        "+01000000-0000-4000-8000-000000000000",  # another bucket's id
        "+00100000-0000-4000-8000-000000000000",  # another bucket's, by the third digit
        "+0000000-00000-4000-8000-000000000000",  # a dash out of place
        "+00000000-0000-4000-8000-0000000000000",  # too long
        "*00000000-0000-4000-8000-000000000000",  # neither sure nor unsure
        "+00000000-0000-4000-8000-00000000000+",
        "+../../../../../../../../../etc/passwd",
        "+00000000-0000-4000-8000-0000000000é",  # not ASCII (37 bytes: the line's width)
        "+00000000-0000-4000-8000-000000000000\n",  # an empty line
    ],
)
def test_a_bucket_with_a_well_checksummed_bad_id_is_damaged(ring, line):
    keyring, clock = ring
    good = "+00000000-0000-4000-8000-000000000001"
    body = f"{index_mod.KEYS_HEADER}\n{good}\n{line}\n".encode()
    (keyring.path / "index" / "keys" / "000").write_bytes(body + b"crc32 %08x\n" % binascii.crc32(body))
    with pytest.raises(index_mod.IndexDamaged):
        reopen(keyring.path, clock).index.ids_from("", 10)
    body = f"{index_mod.KEYS_HEADER}\n{good}\n".encode()
    (keyring.path / "index" / "keys" / "000").write_bytes(body + b"crc32 %08x\n" % binascii.crc32(body))
    assert reopen(keyring.path, clock).index.ids_from("", 10) == [good[1:]]


def _write_bucket_lines(keyring, bucket: str, lines: list[str]) -> None:
    body = "\n".join([index_mod.KEYS_HEADER, *lines]).encode() + b"\n"
    (keyring.path / "index" / "keys" / bucket).write_bytes(body + b"crc32 %08x\n" % binascii.crc32(body))


def test_a_bucket_is_read_whatever_the_order_of_its_sure_and_unsure_lines(ring):
    """Writers put unsure lines last (each part is then split in one go); a bucket in any
    other order, as a rebuild of another kmscli or a hand might leave it, reads the same."""
    keyring, clock = ring
    a, b, c = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
    for lines in (["+" + a, "+" + c, "?" + b], ["?" + b, "+" + c, "+" + a], ["+" + c, "?" + b, "+" + a]):
        _write_bucket_lines(keyring, "000", lines)
        index = reopen(keyring.path, clock).index
        assert index._read_bucket("000") == ([a, c], [b])


def test_a_key_change_keeps_the_bucket_sorted_and_settles_its_unsure_ids(ring):
    keyring, clock = ring
    ids = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(6)]
    keys_dir = keyring.path / "keys"
    for present in (ids[1], ids[4]):  # unsure ids whose files exist stay, the others go
        (keys_dir / f"{present}.toml").write_bytes(b"")
    _write_bucket_lines(keyring, "000", ["+" + ids[5], "+" + ids[0], "+" + ids[2], "?" + ids[1], "?" + ids[3], "?" + ids[4]])
    index = reopen(keyring.path, clock).index
    index.note_key_change(ids[2])  # a key about to be deleted: unsure, no longer sure
    assert index._read_bucket("000") == ([ids[0], ids[1], ids[4], ids[5]], [ids[2]])
    index.note_key_change(ids[3])  # a key about to be created; ids[2]'s file is gone: dropped
    assert index._read_bucket("000") == ([ids[0], ids[1], ids[4], ids[5]], [ids[3]])
    lines = (keyring.path / "index" / "keys" / "000").read_text().splitlines()[1:-1]
    assert lines == ["+" + k for k in (ids[0], ids[1], ids[4], ids[5])] + ["?" + ids[3]]


def write_version_1_index(keyring) -> None:
    """The index as a kmscli of index version 1 left it: 256 key buckets of two hex digits,
    the same lines and checksum, its own format line (the due files did not change)."""
    keys_dir = keyring.path / "index" / "keys"
    shutil.rmtree(keys_dir)
    keys_dir.mkdir(mode=0o700)
    by_bucket: dict[str, list[str]] = {}
    for key_id in keyring.key_ids():
        by_bucket.setdefault(key_id[:2], []).append(key_id)
    for bucket, ids in by_bucket.items():
        body = "\n".join(["kmscli-key-index 1", *("+" + k for k in sorted(ids))]).encode() + b"\n"
        (keys_dir / bucket).write_bytes(body + b"crc32 %08x\n" % binascii.crc32(body))
    mtime = (keyring.path / "keys").stat().st_mtime_ns
    (keyring.path / "index" / "format").write_bytes(b"kmscli-index 1\nkeys-mtime %d\n" % mtime)


def test_an_index_of_the_old_layout_is_read_around_and_rebuilt_by_the_next_writer(ring):
    keyring, clock = ring
    ids = sorted(new_keys(keyring, 30))
    state.schedule_key_deletion(keyring, ids[3], pending_window_in_days=7)
    write_version_1_index(keyring)
    # One of its buckets, forged: were the old layout trusted, a key that is not there would be listed.
    ghost = ids[0][:2] + "0" * 6 + "-0000-4000-8000-" + "0" * 12
    body = f"kmscli-key-index 1\n+{ghost}\n".encode()
    (keyring.path / "index" / "keys" / ids[0][:2]).write_bytes(body + b"crc32 %08x\n" % binascii.crc32(body))

    old = reopen(keyring.path, clock)
    assert not old.index.present()  # another version: not the index readers use...
    assert all_ids(old) == ids  # ...they list keys/ meanwhile
    completion_prefix = ids[7][:5]
    assert old.key_ids_from(completion_prefix, 100)[0] == ids[7]
    clock.days(8)
    new_keys(old, 1)  # the next writer rebuilds it, due dates included
    assert old.index.present()
    assert ids[3] not in all_ids(old) and len(all_ids(old)) == 30
    names = sorted(p.name for p in (keyring.path / "index" / "keys").iterdir())
    assert names and all(len(name) == index_mod.BUCKET_DIGITS for name in names)  # no bucket of the old layout left
    assert old.index.ids_from("", 100) == old.key_ids()


def test_a_page_of_a_small_keyring_reads_few_missing_buckets(ring, monkeypatch):
    """4,096 buckets: a keyring of a few keys has almost none of them. A page reads buckets
    by path only until PROBES_BEFORE_LISTING of them were empty, then lists index/keys/."""
    keyring, clock = ring
    ids = sorted(new_keys(keyring, 20))
    fresh = reopen(keyring.path, clock)
    read = []
    real = index_mod.Index._read_bucket
    monkeypatch.setattr(index_mod.Index, "_read_bucket", lambda self, b: read.append(b) or real(self, b))
    assert fresh.index.ids_from("", 100) == ids
    assert len(read) <= index_mod.PROBES_BEFORE_LISTING + len(ids)
    read.clear()
    assert fresh.index.ids_from(ids[10], 3) == ids[10:13]  # from a marker: the same
    assert len(read) <= index_mod.PROBES_BEFORE_LISTING + 3


def test_pages_cross_from_probing_to_listing_without_losing_a_key(ring):
    """Buckets close together (read by path) and far apart (found by the listing)."""
    keyring, clock = ring
    made = [f"{prefix}00000-0000-4000-8000-000000000001" for prefix in ("000", "001", "003", "0f0", "a00", "fff")]
    for key_id in made:
        _write_bucket_lines(keyring, key_id[:3], ["+" + key_id])
    index = reopen(keyring.path, clock).index
    assert index.ids_from("", 100) == made
    assert index.ids_from("002", 100) == made[2:]
    assert index.ids_from(made[3], 2) == made[3:5]
    assert index.ids_from("b", 100) == made[5:]
