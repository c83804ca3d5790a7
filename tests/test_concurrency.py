"""Many processes writing one keyring at once lose nothing; the writer lock times out
cleanly, and a lock held by a dead process does not block."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import PASSPHRASE, ROOT, create_key
from lifecycle_util import refused, snapshot

HERE = Path(__file__).resolve().parent
WORKERS = 8
ROUNDS = 4  # 6 acknowledged changes (8 commands) per round: 32 commands per worker


def test_many_processes_lose_no_acknowledged_change(kms, keyring_env, tmp_path):
    shared = create_key(kms)
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{HERE}", **keyring_env, KMSCLI_LOCK_TIMEOUT="60")
    logs = [tmp_path / f"w{w}.log" for w in range(WORKERS)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "concurrency_worker.py"), str(w), str(ROUNDS), shared, str(logs[w])],
            env=env,
            stderr=subprocess.PIPE,
        )
        for w in range(WORKERS)
    ]
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * WORKERS, errors
    acks = [line.split() for log in logs for line in log.read_text().splitlines()]
    assert len(acks) == WORKERS * ROUNDS * 6

    from kmscli.keyring import Keyring

    keyring = Keyring.open(Path(keyring_env["KMSCLI_KEYRING"]))
    keyring._master = keyring.master_from_passphrase(PASSPHRASE.encode())
    ids = keyring.key_ids()
    docs = {k: keyring.load_key(k, verify=True) for k in ids}  # every file opens and verifies
    for doc in docs.values():
        for entry in doc["materials"]:
            keyring.unwrap_material(doc["metadata"], entry)
    aliases = keyring.load_aliases(verify=True)
    assert len(ids) == 1 + WORKERS * ROUNDS
    for kind, *rest in acks:
        if kind == "key":
            assert rest[0] in docs
        elif kind == "alias":
            assert aliases[rest[0]]["TargetKeyId"] == rest[1]
        elif kind == "tag":
            key, tag, n = rest
            if key != shared:
                assert docs[key]["tags"][tag] == n
        elif kind == "rotated":
            assert len(docs[rest[0]]["materials"]) == 2
        elif kind == "enabled":
            assert docs[rest[0]]["metadata"]["KeyState"] == "Enabled"
    # Every worker's last tag of the shared key survived the seven others' writes.
    assert docs[shared]["tags"] == {f"w{w}": str(ROUNDS - 1) for w in range(WORKERS)}
    assert not [p for p in Path(keyring_env["KMSCLI_KEYRING"]).rglob(".tmp-*")]


def test_a_lock_that_cannot_be_taken_in_time_is_a_clear_error(kms, keyring_env):
    create_key(kms)
    path = Path(keyring_env["KMSCLI_KEYRING"])
    before = snapshot(path)
    fd = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another holder (flock is per open file)
        started = time.monotonic()
        result = kms("create-key", env={"KMSCLI_LOCK_TIMEOUT": "0.3"})
        elapsed = time.monotonic() - started
    finally:
        os.close(fd)
    refused(result, "DependencyTimeoutException")
    assert "KMSCLI_LOCK_TIMEOUT" in result.stderr  # the hint names the way out
    assert 0.3 <= elapsed < 3
    assert snapshot(path) == before
    # Readers do not take the lock.
    assert kms("list-keys", env={"KMSCLI_LOCK_TIMEOUT": "0.3"}).status == 0


def test_a_lock_left_by_a_dead_process_does_not_block(kms, keyring_env):
    path = Path(keyring_env["KMSCLI_KEYRING"])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(path / '.lock')!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline() == b"held\n"
        assert kms("create-key", env={"KMSCLI_LOCK_TIMEOUT": "0.2"}).status == 3  # held: refused
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (path / ".lock").exists()  # the file stays; the dead holder's lock does not
    started = time.monotonic()
    result = kms("create-key", env={"KMSCLI_LOCK_TIMEOUT": "5"})
    assert result.status == 0, result.stderr
    assert time.monotonic() - started < 2


def test_a_lock_timeout_that_is_not_a_number_is_refused(kms):
    for bad in ("soon", "-1", "nan", "1e9"):
        r = kms("create-key", env={"KMSCLI_LOCK_TIMEOUT": bad})
        assert r.status == 2 and r.stdout == b"", (bad, r.stderr)
        assert r.stderr.startswith("kmscli: error: ValidationException: KMSCLI_LOCK_TIMEOUT")
    assert kms("list-keys").json()["Keys"] == []  # nothing was created
