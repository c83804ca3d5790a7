"""A full disk, a failing fsync or a failing rename (simulated) leaves the old state intact:
exit 5, one clean error, nothing changed on disk, no temp file left behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import PASSPHRASE, create_key
from lifecycle_util import refused, snapshot

from kmscli.keyring import fsutil


def failing(name: str, err: int, *, when=lambda *a: True):
    real = getattr(os, name)

    def fake(*args, **kwargs):
        if when(*args):
            raise OSError(err, os.strerror(err))
        return real(*args, **kwargs)

    return fake


def _is_dir_fd(fd) -> bool:
    import stat

    return stat.S_ISDIR(os.fstat(fd).st_mode)


FAULTS = {
    "disk-full": ("write", errno.ENOSPC, lambda *a: True),
    "fsync-file": ("fsync", errno.EIO, lambda fd: not _is_dir_fd(fd)),
    "fsync-dir": ("fsync", errno.EIO, lambda fd: _is_dir_fd(fd)),
    "rename": ("rename", errno.EIO, lambda *a: True),
    "link": ("link", errno.EIO, lambda *a: True),
}

COMMANDS = {
    "create-key": lambda key: ["create-key"],
    "rotate": lambda key: ["rotate-key-on-demand", "--key-id", key],
    "alias": lambda key: ["create-alias", "--alias-name", "alias/new", "--target-key-id", key],
    "tag": lambda key: ["tag-resource", "--key-id", key, "--tag", "a=b"],
    "disable": lambda key: ["disable-key", "--key-id", key],
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_failed_write_changes_nothing(kms, keyring_env, monkeypatch, fault, command):
    key = create_key(kms)
    path = Path(keyring_env["KMSCLI_KEYRING"])
    before = snapshot(path)
    name, err, when = FAULTS[fault]
    monkeypatch.setattr(os, name, failing(name, err, when=when))
    result = kms(*COMMANDS[command](key))
    monkeypatch.undo()
    # (create-key too fails on rename: its key file is linked into place, never renamed, but
    # the index's bucket is replaced first.)
    refused(result, "FileAccessException", status=5)
    assert snapshot(path) == before
    assert not list(path.rglob(".tmp-*"))
    assert kms("list-keys").json()["Keys"][0]["KeyId"] == key  # and the keyring still works


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failed_change_passphrase_keeps_the_old_passphrase(keyring_env, monkeypatch, fault):
    from kmscli.errors import FileAccessException
    from kmscli.keyring import Keyring

    path = Path(keyring_env["KMSCLI_KEYRING"])
    before = snapshot(path)
    keyring = Keyring.open(path)
    keyring._master = keyring.master_from_passphrase(PASSPHRASE.encode())
    name, err, when = FAULTS[fault]
    monkeypatch.setattr(os, name, failing(name, err, when=when))
    try:
        keyring.change_passphrase(b"the new passphrase")
        changed = True
    except FileAccessException:
        changed = False
    monkeypatch.undo()
    assert not changed
    assert snapshot(path) == before
    assert not list(path.rglob(".tmp-*"))
    Keyring.open(path).master_from_passphrase(PASSPHRASE.encode())


def test_a_failed_init_leaves_no_keyring(tmp_path, monkeypatch):
    from kmscli.errors import FileAccessException
    from kmscli.keyring import Keyring

    monkeypatch.setattr(os, "write", failing("write", errno.ENOSPC))
    with pytest.raises(FileAccessException):
        Keyring.create(tmp_path / "k", PASSPHRASE.encode(), scrypt_log2_n=10)
    monkeypatch.undo()
    assert not (tmp_path / "k" / "keyring.toml").exists()
    assert not list((tmp_path / "k").rglob(".tmp-*"))
    Keyring.create(tmp_path / "k", PASSPHRASE.encode(), scrypt_log2_n=10)  # and it can be retried
