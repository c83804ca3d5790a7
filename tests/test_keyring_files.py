"""The keyring on disk: private modes from creation, refused directories, atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conftest import PASSPHRASE, TEST_LOG2_N, create_key, run_in_process
from seed_keys import assert_error

from kmscli.keyring import fsutil


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask_000():
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def init(path: Path, *extra, env=None):
    return run_in_process(
        ["--keyring", path, "init", "--scrypt-log2-n", TEST_LOG2_N, *extra],
        env={"KMSCLI_PASSPHRASE": PASSPHRASE, **(env or {})},
    )


def every_entry(root: Path):
    yield root
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            yield Path(dirpath) / name


def test_files_0600_and_directories_0700_under_umask_000(tmp_path, umask_000):
    ring = tmp_path / "keyring"
    assert init(ring).status == 0
    env = {"KMSCLI_KEYRING": str(ring), "KMSCLI_PASSPHRASE": PASSPHRASE}
    key = run_in_process(["create-key"], env=env).json()["KeyMetadata"]["KeyId"]
    assert (ring / "keys" / f"{key}.toml").is_file()
    entries = list(every_entry(ring))
    assert len(entries) >= 5  # keyring, keys, keyring.toml, the key file, .lock
    for entry in entries:
        expected = 0o700 if entry.is_dir() else 0o600
        assert mode(entry) == expected, f"{entry}: {mode(entry):o}"


def test_missing_parent_directories_are_created_0700_under_umask_000(tmp_path, umask_000):
    # XDG: "an attempt should be made to create it with permission 0700". A parent made
    # 0777 would let anyone rename the keyring directory away and put another in its place.
    ring = tmp_path / "a" / "b" / "c" / "keyring"
    assert init(ring).status == 0
    for parent in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert mode(parent) == 0o700, f"{parent}: {mode(parent):o}"


def test_existing_parent_directories_are_left_alone(tmp_path):
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(parent, 0o755)
    assert init(parent / "keyring").status == 0
    assert mode(parent) == 0o755
    assert mode(parent / "keyring") == 0o700


def test_output_files_are_created_0600(kms, tmp_path, umask_000):
    key = create_key(kms)
    out = tmp_path / "blob.bin"
    r = kms("encrypt", "--key-id", key, "--plaintext", "x", "--out", out)
    assert r.status == 0, r.stderr
    assert mode(out) == 0o600


def test_a_keyring_directory_that_is_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real"
    assert init(real).status == 0
    link = tmp_path / "link"
    link.symlink_to(real)
    r = run_in_process(["--keyring", link, "list-keys"])
    line = assert_error(r, 5, "KeyringDamagedException")
    assert "symbolic link" in line


def test_a_keyring_directory_writable_by_others_is_refused(tmp_path):
    ring = tmp_path / "keyring"
    assert init(ring).status == 0
    os.chmod(ring, 0o777)
    r = run_in_process(["--keyring", ring, "list-keys"])
    line = assert_error(r, 5, "KeyringDamagedException")
    assert "writable by group or others" in line
    assert "chmod 700" in r.stderr


def test_a_keys_directory_writable_by_group_is_refused(tmp_path):
    ring = tmp_path / "keyring"
    assert init(ring).status == 0
    os.chmod(ring / "keys", 0o770)
    r = run_in_process(["--keyring", ring, "list-keys"])
    assert_error(r, 5, "KeyringDamagedException")


def test_init_into_a_symlink_is_refused_and_writes_nothing(tmp_path):
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(target)
    r = init(link)
    assert_error(r, 5, "KeyringDamagedException")
    assert list(target.iterdir()) == []


def test_init_never_overwrites_a_keyring(tmp_path):
    ring = tmp_path / "keyring"
    assert init(ring).status == 0
    before = (ring / "keyring.toml").read_bytes()
    r = init(ring)
    assert_error(r, 3, "AlreadyExistsException")
    assert (ring / "keyring.toml").read_bytes() == before


def test_a_key_file_that_is_a_symlink_is_refused(kms, keyring_env):
    key = create_key(kms)
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    path = ring / "keys" / f"{key}.toml"
    moved = ring / "elsewhere.toml"
    path.rename(moved)
    path.symlink_to(moved)
    r = kms("describe-key", "--key-id", key)
    assert_error(r, 5, "KeyringDamagedException")


# --- atomic writes -----------------------------------------------------------------------


@pytest.fixture
def work(tmp_path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def test_atomic_write_replaces_the_file_and_leaves_no_temp(work):
    tmp_path = work
    target = tmp_path / "doc.toml"
    target.write_bytes(b"old")
    fsutil.atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.toml"]


def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temp(work, monkeypatch):
    tmp_path = work
    target = tmp_path / "doc.toml"
    target.write_bytes(b"old")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", full_disk)
    with pytest.raises(fsutil.FileAccessException):
        fsutil.atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.toml"]


def test_exclusive_atomic_write_never_replaces(work):
    tmp_path = work
    target = tmp_path / "doc.toml"
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        fsutil.atomic_write(target, b"new", exclusive=True)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.toml"]


def test_a_failed_create_key_changes_nothing_on_disk(kms, keyring_env):
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    before = sorted(str(p) for p in every_entry(ring))
    r = kms("create-key", "--key-spec", "SYMMETRIC_DEFAULT", "--key-usage", "SIGN_VERIFY")
    assert_error(r, 2, "ValidationException")
    assert sorted(str(p) for p in every_entry(ring)) == before


@pytest.mark.parametrize("log2_n", ["19", "20", "9", "21"])
def test_init_refuses_a_cost_it_could_never_unlock_as_a_usage_error(tmp_path, log2_n):
    # With r = 8, log2 N above 18 needs more than the 256 MiB the reader allows: init must
    # say so as bad input (exit 2), not call the keyring it has not written "damaged".
    r = run_in_process(
        ["--keyring", tmp_path / "keyring", "init", "--scrypt-log2-n", log2_n], env={"KMSCLI_PASSPHRASE": PASSPHRASE}
    )
    line = assert_error(r, 2, "ValidationException")
    assert "18" in line
    assert not (tmp_path / "keyring").exists()


def test_init_help_shows_the_usable_cost_range():
    r = run_in_process(["init", "--help"])
    assert r.status == 0
    assert "10<=x<=18" in r.out.replace(" ", "")


def test_the_python_api_refuses_an_unusable_cost_as_bad_input(tmp_path):
    from kmscli.errors import ValidationException
    from kmscli.keyring import Keyring

    with pytest.raises(ValidationException):
        Keyring.create(tmp_path / "keyring", PASSPHRASE.encode(), scrypt_log2_n=19)
    assert not (tmp_path / "keyring").exists()


@pytest.mark.parametrize("closed,mode,phrase", [
    (fsutil.WRITABLE_BY_OTHERS, 0o755, None),
    (fsutil.WRITABLE_BY_OTHERS, 0o775, "is writable by group or others (mode 0775)"),
    (fsutil.OPEN_TO_OTHERS, 0o700, None),
    (fsutil.OPEN_TO_OTHERS, 0o750, "is open to other users (mode 0750)"),
])
def test_keyring_and_session_directories_share_one_privacy_check(tmp_path, closed, mode, phrase):
    """The keyring lets others read its sealed files; a session directory lets them nothing."""
    directory = tmp_path / "d"
    directory.mkdir()
    directory.chmod(mode)
    problem = fsutil.private_dir_problem(os.lstat(directory), closed)
    assert problem == (None if phrase is None else ("mode", phrase))
    (tmp_path / "link").symlink_to(directory)
    assert fsutil.private_dir_problem(os.lstat(tmp_path / "link"), closed) == ("link", "is a symbolic link")
    (tmp_path / "file").write_bytes(b"")
    assert fsutil.private_dir_problem(os.lstat(tmp_path / "file"), closed) == ("type", "is not a directory")


def test_a_keyring_path_that_is_a_file_is_refused_without_a_hint(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(fsutil.KeyringDamagedException, match="file is not a directory$") as e:
        fsutil.check_private_dir(tmp_path / "file")
    assert e.value.hint is None
