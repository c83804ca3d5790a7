"""Aliases at scale (issue 15): each alias in a sealed bucket by a hash of its name, an index
of names and of each key's aliases (kmscli/keyring/alias_index.py). At small sizes, by
counting the files read (never by time; bench/scale.py measures): resolving an alias reads
its bucket alone, a page of list-aliases reads the index's top and a chunk or two, a change
writes one bucket. A keyring from before the buckets (aliases.toml) is read as before and
moved to buckets at its next write, crash-safe. A forged bucket is refused as damaged; a
forged index entry redirects nothing and destroys nothing."""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest
import tomli_w
from conftest import PASSPHRASE
from lifecycle_util import alias_file

from kmscli import service  # noqa: F401 - the sweep and the indexes, as every writer has them
from kmscli.errors import KeyringDamagedException, LimitExceededException, NotFoundException
from kmscli.keyring import Keyring
from kmscli.keyring import alias_index as alias_index_mod
from kmscli.keyring import format as fmt
from kmscli.keyring import index as index_mod
from kmscli.keyring import fsutil
from kmscli.keyring import store as store_mod
from kmscli.keyring.index import _seal, _unseal
from kmscli.service import aliases, encryption, keys, state

STAMP = "2026-01-01T00:00:00+00:00"


def unlocked(path: Path) -> Keyring:
    return Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))


@pytest.fixture
def ring(tmp_path):
    Keyring.create(tmp_path / "k", PASSPHRASE.encode(), scrypt_log2_n=10)
    return unlocked(tmp_path / "k")


def many_aliases(keyring: Keyring, count: int) -> tuple[list[str], dict]:
    """``count`` aliases over count/50 keys (AWS's 50 per key), written in one bulk save."""
    ids = [keys.create_key(keyring)["KeyMetadata"]["KeyId"] for _ in range(max(1, count // 50))]
    table = {
        f"alias/t-{n:05d}": {"TargetKeyId": ids[n % len(ids)], "CreationDate": STAMP, "LastUpdatedDate": STAMP}
        for n in range(count)
    }
    with keyring.transaction():
        keyring.save_aliases(table)
    return ids, table


def files_read(monkeypatch, action) -> list[str]:
    """The keyring files ``action`` reads (relative paths), through fsutil.read_file."""
    seen = []
    real = fsutil.read_file

    def counting(path, *a, **k):
        seen.append(str(path))
        return real(path, *a, **k)

    for module in (store_mod, alias_index_mod, index_mod):  # the index files are read in index.py
        monkeypatch.setattr(module, "read_file", counting)
    try:
        action()
    finally:
        monkeypatch.undo()
    return seen


def under(paths: list[str], folder: str) -> list[str]:
    return [p for p in paths if f"/{folder}/" in p]


# --- the cost: what is read ---------------------------------------------------------------


def test_resolving_an_alias_reads_its_bucket_alone(ring, monkeypatch):
    ids, table = many_aliases(ring, 600)
    fresh = Keyring.open(ring.path)
    read = files_read(monkeypatch, lambda: keys.describe_key(fresh, "alias/t-00123"))
    assert under(read, "aliases") == [str(alias_file(ring.path, "alias/t-00123"))]
    assert not under(read, "index")
    assert keys.describe_key(fresh, "alias/t-00123")["KeyMetadata"]["KeyId"] == table["alias/t-00123"]["TargetKeyId"]


def test_a_page_of_list_aliases_reads_the_index_not_the_buckets(ring, monkeypatch):
    many_aliases(ring, 1500)  # several chunks of at most CHUNK_MAX names
    fresh = Keyring.open(ring.path)
    chunks = [n for n in os.listdir(ring.path / "index" / "aliases") if n.startswith("c")]
    assert len(chunks) >= 4
    result = {}
    read = files_read(monkeypatch, lambda: result.update(aliases.list_aliases(fresh, limit=100, marker="alias/t-00700")))
    assert [a["AliasName"] for a in result["Aliases"]] == [f"alias/t-{n:05d}" for n in range(700, 800)]
    assert result["NextMarker"] == "alias/t-00800"
    assert not under(read, "aliases/aliases") and not [p for p in read if "/aliases/" in p and p.endswith(".toml")]
    assert len(under(read, "index/aliases")) <= 1 + 2 + 1  # format, top, at most two chunks


def test_following_next_marker_lists_every_alias_in_order(ring):
    _, table = many_aliases(ring, 1200)
    fresh = Keyring.open(ring.path)
    names, marker = [], None
    while True:
        page = aliases.list_aliases(fresh, limit=100, marker=marker)
        names += [a["AliasName"] for a in page["Aliases"]]
        if not page["Truncated"]:
            break
        marker = page["NextMarker"]
    assert names == sorted(table)


def test_list_aliases_of_a_key_reads_that_key_s_entries(ring, monkeypatch):
    ids, table = many_aliases(ring, 500)
    fresh = Keyring.open(ring.path)
    result = {}
    read = files_read(monkeypatch, lambda: result.update(aliases.list_aliases(fresh, key_id=ids[3])))
    assert [a["AliasName"] for a in result["Aliases"]] == sorted(n for n, e in table.items() if e["TargetKeyId"] == ids[3])
    assert len(under(read, "index/aliases/targets")) == 1
    assert not [p for p in read if "/aliases/" in p and p.endswith(".toml")]


def test_create_alias_reads_and_writes_one_bucket(ring, monkeypatch):
    many_aliases(ring, 600)
    target = keys.create_key(ring)["KeyMetadata"]["KeyId"]  # (one with aliases reads theirs, at most 50, to count them)
    keyring = unlocked(ring.path)
    written = []
    real = store_mod.atomic_write

    def spy(path, *a, **k):
        written.append(str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(store_mod, "atomic_write", spy)
    read = files_read(monkeypatch, lambda: aliases.create_alias(keyring, "alias/one-more", target))
    bucket = str(alias_file(ring.path, "alias/one-more"))
    assert [p for p in read if "/aliases/" in p and p.endswith(".toml")] == [bucket]
    assert [p for p in written if "/aliases/" in p] == [bucket]


# --- the index stays true ------------------------------------------------------------------


def test_the_index_after_many_changes_is_what_a_rebuild_makes(ring, monkeypatch):
    monkeypatch.setattr(alias_index_mod, "CHUNK_MAX", 6)  # splits and emptied chunks at small sizes
    ids = [keys.create_key(ring)["KeyMetadata"]["KeyId"] for _ in range(3)]
    for n in range(40):
        aliases.create_alias(ring, f"alias/a-{(n * 7) % 40:02d}", ids[n % 3])
    for n in range(0, 40, 3):
        aliases.delete_alias(ring, f"alias/a-{n:02d}")
    for n in (n for n in range(1, 40, 5) if n % 3):
        aliases.update_alias(ring, f"alias/a-{n:02d}", ids[(n + 1) % 3])
    index = ring.alias_index
    assert index.present()
    rows = index.rows_from("", 1000)
    expected = sorted(alias_index_mod.row_of(n, e) for n, e in ring.load_aliases(verify=True).items())
    assert rows == expected
    for key_id in ids:
        assert index.rows_of_key(key_id) == [r for r in expected if r[1] == key_id]
    ring.rebuild_alias_index()
    assert ring.alias_index.rows_from("", 1000) == expected


def test_a_missing_or_damaged_alias_index_is_rebuilt_and_meanwhile_not_used(ring):
    ids, table = many_aliases(ring, 120)
    shutil.rmtree(ring.path / "index" / "aliases")
    fresh = Keyring.open(ring.path)
    assert [a["AliasName"] for a in aliases.list_aliases(fresh, limit=100)["Aliases"]] == sorted(table)[:100]
    keys.create_key(unlocked(ring.path))  # any write
    assert Keyring.open(ring.path).alias_index.present()
    top = ring.path / "index" / "aliases" / "top"
    top.write_bytes(top.read_bytes().replace(b"kmscli", b"kmscLI"))
    fresh = Keyring.open(ring.path)
    assert [a["AliasName"] for a in aliases.list_aliases(fresh, limit=100)["Aliases"]] == sorted(table)[:100]


def test_a_bucket_changed_behind_kmscli_makes_the_index_stop_speaking(ring):
    ids, table = many_aliases(ring, 60)
    bucket = alias_file(ring.path, "alias/t-00001")
    os.unlink(bucket)  # as a restore from a backup would, by hand
    assert not Keyring.open(ring.path).alias_index.present()


# --- integrity: as strong as aliases.toml's -------------------------------------------------


def test_an_alias_moved_into_another_bucket_is_refused(ring):
    key = keys.create_key(ring)["KeyMetadata"]["KeyId"]
    aliases.create_alias(ring, "alias/main", key)
    aliases.create_alias(ring, "alias/other", key)
    src, dst = alias_file(ring.path, "alias/main"), alias_file(ring.path, "alias/other")
    assert src != dst
    shutil.copy(src, dst)  # a sealed bucket, valid where it was, planted as another
    with pytest.raises(KeyringDamagedException):
        unlocked(ring.path).load_alias("alias/other")


def test_a_forged_index_entry_redirects_nothing(ring):
    main, other = (keys.create_key(ring)["KeyMetadata"]["KeyId"] for _ in range(2))
    aliases.create_alias(ring, "alias/main", main)
    index_dir = ring.path / "index" / "aliases"
    stamp = (index_dir / "format").read_bytes()
    for chunk in index_dir.glob("c*"):  # the name index says alias/main is `other`'s
        lines = _unseal(chunk.read_bytes(), alias_index_mod.CHUNK_HEADER)
        chunk.write_bytes(_seal(alias_index_mod.CHUNK_HEADER, [ln.replace(main, other) for ln in lines]))
    targets = index_dir / "targets" / other[:2]  # and so does the index of `other`'s aliases
    lines = _unseal(targets.read_bytes(), alias_index_mod.TARGETS_HEADER) if targets.exists() else []
    targets.write_bytes(_seal(alias_index_mod.TARGETS_HEADER, sorted({*lines, f"{other} alias/main {STAMP} {STAMP}"})))
    (index_dir / "format").write_bytes(stamp)
    fresh = Keyring.open(ring.path)
    assert aliases.list_aliases(fresh)["Aliases"][0]["TargetKeyId"] == other  # the listing shows the cache...
    blob = encryption.encrypt(unlocked(ring.path), "alias/main", b"x")["CiphertextBlob"]
    assert blob[17:49].hex() in {m["KeyMaterialId"] for m in ring.load_key(main)["materials"]}  # ...the alias is its bucket's
    # A forged entry naming `other`'s aliases destroys none with `other`, and counts none.
    keyring = unlocked(ring.path)
    assert keyring.alias_rows_of_key(other, verify=True) == []
    assert [r[0] for r in keyring.alias_rows_of_key(other)] == ["alias/main"]


def test_a_forged_entry_does_not_take_an_alias_with_a_destroyed_key(tmp_path):
    from lifecycle_util import T0
    import datetime as dt

    now = [T0]
    Keyring.create(tmp_path / "k", PASSPHRASE.encode(), scrypt_log2_n=10)
    keyring = Keyring.open(tmp_path / "k", unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()), clock=lambda: now[0])
    kept, doomed = (keys.create_key(keyring)["KeyMetadata"]["KeyId"] for _ in range(2))
    aliases.create_alias(keyring, "alias/kept", kept)
    aliases.create_alias(keyring, "alias/doomed", doomed)
    state.schedule_key_deletion(keyring, doomed, pending_window_in_days=7)
    # The doomed key's targets bucket forged to claim alias/kept as well.
    targets = tmp_path / "k" / "index" / "aliases" / "targets" / doomed[:2]
    body = _unseal(targets.read_bytes(), alias_index_mod.TARGETS_HEADER)
    forged = sorted({*body, f"{doomed} alias/kept {STAMP} {STAMP}"})
    stamp = (tmp_path / "k" / "index" / "aliases" / "format").read_bytes()
    targets.write_bytes(_seal(alias_index_mod.TARGETS_HEADER, forged))
    (tmp_path / "k" / "index" / "aliases" / "format").write_bytes(stamp)
    now[0] = T0 + dt.timedelta(days=8)
    keys.create_key(keyring)  # the sweep destroys the doomed key and its aliases
    with pytest.raises(NotFoundException):
        keyring.load_key(doomed)
    assert keyring.load_alias("alias/doomed", verify=True) is None
    assert keyring.load_alias("alias/kept", verify=True)["TargetKeyId"] == kept


def test_the_limit_of_50_counts_verified_aliases(ring):
    key = keys.create_key(ring)["KeyMetadata"]["KeyId"]
    for n in range(50):
        aliases.create_alias(ring, f"alias/k-{n:02d}", key)
    with pytest.raises(LimitExceededException):
        aliases.create_alias(ring, "alias/k-50", key)
    aliases.delete_alias(ring, "alias/k-07")
    aliases.create_alias(ring, "alias/k-50", key)


# --- a keyring from before the buckets: aliases.toml ---------------------------------------


def legacy_keyring(path: Path, table: dict) -> Keyring:
    """A keyring as a kmscli from before the buckets left it: every alias in aliases.toml,
    sealed as that kmscli sealed it, no aliases/ and no alias index."""
    keyring = unlocked(path)
    doc = {"format": fmt.ALIASES_KIND, "version": fmt.FORMAT_VERSION, "aliases": table}
    fsutil.atomic_write(path / fmt.ALIASES_FILE, keyring._sealed_bytes(doc))
    shutil.rmtree(path / "aliases", ignore_errors=True)
    shutil.rmtree(path / "index" / "aliases", ignore_errors=True)
    return unlocked(path)


def test_aliases_toml_is_read_as_before_then_moved_at_the_next_write(ring):
    ids = [keys.create_key(ring)["KeyMetadata"]["KeyId"] for _ in range(3)]
    table = {f"alias/old-{n}": {"TargetKeyId": ids[n % 3], "CreationDate": STAMP, "LastUpdatedDate": STAMP} for n in range(30)}
    keyring = legacy_keyring(ring.path, table)
    before = sorted(os.listdir(ring.path))
    # Readers: as before, nothing written.
    reader = Keyring.open(ring.path)
    assert keys.describe_key(reader, "alias/old-4")["KeyMetadata"]["KeyId"] == ids[1]
    assert [a["AliasName"] for a in aliases.list_aliases(reader)["Aliases"]] == sorted(table)
    assert sorted(os.listdir(ring.path)) == before
    # The first write moves them.
    keys.create_key(keyring)
    assert not (ring.path / fmt.ALIASES_FILE).exists()
    after = unlocked(ring.path)
    assert after.load_aliases(verify=True) == table
    assert after.alias_index.present()
    assert [a["AliasName"] for a in aliases.list_aliases(after)["Aliases"]] == sorted(table)
    assert encryption.encrypt(after, "alias/old-5", b"x")["KeyId"].endswith(ids[2])


def test_a_migration_cut_short_is_done_again(ring, monkeypatch):
    key = keys.create_key(ring)["KeyMetadata"]["KeyId"]
    table = {f"alias/m-{n}": {"TargetKeyId": key, "CreationDate": STAMP, "LastUpdatedDate": STAMP} for n in range(20)}
    keyring = legacy_keyring(ring.path, table)
    writes = []
    real = store_mod.atomic_write

    def dies_on_the_fourth_bucket(path, *a, **k):
        if "/aliases/" in str(path):
            writes.append(path)
            if len(writes) == 4:
                raise KeyboardInterrupt  # the process dies here
        return real(path, *a, **k)

    monkeypatch.setattr(store_mod, "atomic_write", dies_on_the_fourth_bucket)
    with pytest.raises(KeyboardInterrupt):
        keys.create_key(keyring)
    monkeypatch.undo()
    assert (ring.path / fmt.ALIASES_FILE).exists()  # still the truth
    reader = Keyring.open(ring.path)
    assert [a["AliasName"] for a in aliases.list_aliases(reader)["Aliases"]] == sorted(table)
    aliases.delete_alias(unlocked(ring.path), "alias/m-3")  # the next write finishes it, then deletes
    after = unlocked(ring.path)
    assert not (ring.path / fmt.ALIASES_FILE).exists()
    assert after.load_aliases(verify=True) == {n: e for n, e in table.items() if n != "alias/m-3"}


def test_a_hand_edited_aliases_toml_is_refused_and_not_migrated(ring):
    main, other = (keys.create_key(ring)["KeyMetadata"]["KeyId"] for _ in range(2))
    legacy_keyring(ring.path, {"alias/main": {"TargetKeyId": main, "CreationDate": STAMP, "LastUpdatedDate": STAMP}})
    path = ring.path / fmt.ALIASES_FILE
    doc = tomllib.loads(path.read_text())
    doc["aliases"]["alias/main"]["TargetKeyId"] = other
    path.write_text(tomli_w.dumps(doc))
    with pytest.raises(KeyringDamagedException):
        encryption.encrypt(unlocked(ring.path), "alias/main", b"x")
    with pytest.raises(KeyringDamagedException):
        aliases.create_alias(unlocked(ring.path), "alias/new", main)
    keys.create_key(unlocked(ring.path))  # other writes go on; the file stays, refused
    assert path.exists() and not (ring.path / "aliases").exists()


def test_a_long_lived_reader_sees_aliases_another_writer_made(ring):
    """kmscli serve keeps one Keyring: what it has read of the index is kept only while the
    files are unchanged."""
    key = keys.create_key(ring)["KeyMetadata"]["KeyId"]
    reader = Keyring.open(ring.path)
    assert aliases.list_aliases(reader)["Aliases"] == []
    aliases.create_alias(unlocked(ring.path), "alias/later", key)
    assert [a["AliasName"] for a in aliases.list_aliases(reader)["Aliases"]] == ["alias/later"]
    assert [a["AliasName"] for a in aliases.list_aliases(reader, key_id=key)["Aliases"]] == ["alias/later"]
    aliases.delete_alias(unlocked(ring.path), "alias/later")
    assert aliases.list_aliases(reader)["Aliases"] == []


def test_an_aliases_directory_that_is_a_link_is_refused(ring, tmp_path):
    key = keys.create_key(ring)["KeyMetadata"]["KeyId"]
    aliases.create_alias(ring, "alias/main", key)
    elsewhere = tmp_path / "elsewhere"
    os.rename(ring.path / "aliases", elsewhere)
    os.symlink(elsewhere, ring.path / "aliases")
    with pytest.raises(KeyringDamagedException):
        keys.describe_key(Keyring.open(ring.path), "alias/main")


def test_alias_completion_reads_the_index_from_the_typed_prefix(ring, monkeypatch):
    many_aliases(ring, 600)
    from kmscli.cli import options

    monkeypatch.setattr(options, "_completion_keyring_path", lambda ctx: ring.path)
    got = {}

    def complete(prefix):
        got[prefix] = [item.value for item in options.complete_key_ids(None, None, prefix) if item.value.startswith("alias/")]

    read = files_read(monkeypatch, lambda: complete("alias/t-0042"))
    assert got["alias/t-0042"] == [f"alias/t-0042{n}" for n in range(10)]
    assert not [p for p in read if "/aliases/" in p and p.endswith(".toml")]  # no bucket: the index
    monkeypatch.setattr(options, "_completion_keyring_path", lambda ctx: ring.path)
    complete("alias/")
    assert got["alias/"] == [f"alias/t-{n:05d}" for n in range(options.COMPLETION_MAX)]  # the first 100: type more


def test_the_limit_is_counted_from_the_index_and_refused_only_on_verified_buckets(ring, monkeypatch):
    key = keys.create_key(ring)["KeyMetadata"]["KeyId"]
    for n in range(10):
        aliases.create_alias(ring, f"alias/k-{n:02d}", key)
    keyring = unlocked(ring.path)
    read = files_read(monkeypatch, lambda: aliases.create_alias(keyring, "alias/k-10", key))
    others = {str(alias_file(ring.path, f"alias/k-{n:02d}")) for n in range(10)} - {str(alias_file(ring.path, "alias/k-10"))}
    assert others and not others & set(read)  # the key's other aliases are not read to count them
    # 45 forged entries in the index make the key look full: the buckets say otherwise.
    targets = ring.path / "index" / "aliases" / "targets" / key[:2]
    lines = _unseal(targets.read_bytes(), alias_index_mod.TARGETS_HEADER)
    forged = [f"{key} alias/f-{n:02d} {STAMP} {STAMP}" for n in range(45)]
    stamp = (ring.path / "index" / "aliases" / "format").read_bytes()
    targets.write_bytes(_seal(alias_index_mod.TARGETS_HEADER, sorted({*lines, *forged})))
    (ring.path / "index" / "aliases" / "format").write_bytes(stamp)
    aliases.create_alias(unlocked(ring.path), "alias/k-11", key)
