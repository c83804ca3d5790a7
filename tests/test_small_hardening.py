"""The small edges of issue 11: session token spelling, core dumps, passphrase file modes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from conftest import PASSPHRASE, ROOT, create_key
from test_sessions import NO_PASSPHRASE, unlock


def _respell(token: str, how: str) -> str:
    if how == "newline":
        return token + "\n"
    if how == "space":
        return " " + token
    # The last base64 character carries 2 unused bits: flip one, the secret is unchanged.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    return token[:-1] + alphabet[last ^ 1]


@pytest.mark.parametrize("how", ["newline", "space", "unused-bits"])
def test_only_the_canonical_spelling_of_a_token_opens_a_session(kms, how):
    key = create_key(kms)
    token = unlock(kms)
    ok = kms("encrypt", "--key-id", key, "--plaintext", "x", env={**NO_PASSPHRASE, "KMSCLI_SESSION": token})
    assert ok.status == 0, ok.stderr
    r = kms("encrypt", "--key-id", key, "--plaintext", "x", env={**NO_PASSPHRASE, "KMSCLI_SESSION": _respell(token, how)})
    assert r.status == 4 and "does not hold a kmscli session token" in r.stderr


def test_an_unlocking_command_turns_core_dumps_off(kms):
    import ctypes
    import resource

    key = create_key(kms)
    assert kms("encrypt", "--key-id", key, "--plaintext", "x").status == 0
    assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
    PR_GET_DUMPABLE = 3
    assert ctypes.CDLL(None).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0


def test_a_running_decrypt_has_no_core_limit_left(keyring_env, kms, tmp_path):
    """A real process, caught while it holds the master key (waiting for more input)."""
    key = create_key(kms)
    env = {**os.environ, **keyring_env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kmscli", "encrypt-file", "--key-id", key, "--in", "-", "--out", tmp_path / "o"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    try:
        proc.stdin.write(b"x" * 100)
        proc.stdin.flush()
        limits = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            limits = open(f"/proc/{proc.pid}/limits").read()
            if any(line.startswith("Max core file size") and line.split()[4:6] == ["0", "0"] for line in limits.splitlines()):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"core dumps still allowed while the command ran:\n{limits}")
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        proc.stderr.close()


@pytest.mark.parametrize("mode,warned", [(0o644, True), (0o640, True), (0o600, False), (0o400, False)])
def test_a_passphrase_file_readable_by_others_is_warned_about(kms, keyring_env, tmp_path, mode, warned):
    path = tmp_path / "pass"
    path.write_text(PASSPHRASE + "\n")
    os.chmod(path, mode)
    key = create_key(kms)
    r = kms("encrypt", "--key-id", key, "--plaintext", "x", env={"KMSCLI_PASSPHRASE": None, "KMSCLI_PASSPHRASE_FILE": str(path)})
    assert r.status == 0, r.stderr
    assert ("readable by" in r.stderr) is warned
    if warned:
        assert f"hint: make it private with: chmod 600 {path}" in r.stderr
        assert r.stderr.count("readable by") == 1
