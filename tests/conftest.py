"""Shared fixtures: a cheap keyring, and two ways to run kmscli.

``kms(...)`` runs the CLI in this process (fast: most tests); ``kms_proc(...)`` runs
``python -m kmscli`` as a real process (for pipes, terminals, signals and interop)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout under test, even where another is installed

from kmscli.cli.main import main  # noqa: E402

PASSPHRASE = "correct horse battery staple"
TEST_LOG2_N = "10"  # scrypt at 1 MiB: a real derivation, cheap enough for hundreds of tests


@dataclass
class Result:
    status: int
    stdout: bytes
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")

    def json(self):
        assert self.status == 0, self.stderr
        return json.loads(self.stdout)


class _Stream(io.BytesIO):
    def isatty(self):
        return False


# The test clock: an ISO 8601 instant under this key of a run's ``env`` is not put in the
# environment (kmscli reads no clock from there) but injected: through CliContext.clock in
# process, through the test-only entry point tests/kmscli_at.py in a real process.
TEST_CLOCK = "@clock"


def run_in_process(args, *, input: bytes | None = None, env: dict | None = None) -> Result:
    """main(args) with stdin, stdout, stderr and environment swapped for the call."""
    env = dict(env or {})
    instant = env.pop(TEST_CLOCK, None)
    if instant is not None:
        from kmscli.cli.context import CliContext
        from kmscli_at import fixed_clock

        saved_clock = CliContext.__dict__["clock"]
        CliContext.clock = staticmethod(fixed_clock(instant))
        try:
            return run_in_process(args, input=input, env=env)
        finally:
            CliContext.clock = saved_clock
    stdin = io.TextIOWrapper(_Stream(input or b""), encoding="utf-8")
    stdout = io.TextIOWrapper(_Stream(), encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(_Stream(), encoding="utf-8", write_through=True)
    saved = sys.stdin, sys.stdout, sys.stderr, dict(os.environ)
    os.environ.update({k: v for k, v in (env or {}).items() if v is not None})
    for k, v in (env or {}).items():
        if v is None:
            os.environ.pop(k, None)
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    try:
        status = main([str(a) for a in args])
    finally:
        sys.stdout.flush()
        sys.stdin, sys.stdout, sys.stderr = saved[:3]
        os.environ.clear()
        os.environ.update(saved[3])
    return Result(int(status), stdout.buffer.getvalue(), stderr.buffer.getvalue().decode("utf-8"))


def run_process(args, *, input: bytes | None = None, env: dict | None = None, timeout: float = 120) -> Result:
    env = dict(env or {})
    instant = env.pop(TEST_CLOCK, None)
    entry = ["-m", "kmscli"] if instant is None else [str(ROOT / "tests" / "kmscli_at.py"), instant]
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update({k: v for k, v in (env or {}).items() if v is not None})
    for k, v in (env or {}).items():
        if v is None:
            full_env.pop(k, None)
    p = subprocess.run(
        [sys.executable, *entry, *map(str, args)],
        input=input or b"",
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )
    return Result(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    """No test sees the developer's own keyring, passphrase or session."""
    for name in list(os.environ):
        if name.startswith("KMSCLI_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg-runtime"))
    (tmp_path / "xdg-runtime").mkdir(mode=0o700)


def make_keyring(path: Path) -> dict:
    env = {"KMSCLI_KEYRING": str(path), "KMSCLI_PASSPHRASE": PASSPHRASE}
    r = run_in_process(["init", "--scrypt-log2-n", TEST_LOG2_N], env=env)
    assert r.status == 0, r.stderr
    return env


def caller(base: dict):
    """kms(*args, input=None, env=None) -> Result, in process, in the environment ``base``
    (``kms.env``) with ``env`` laid over it: the ``kms`` fixture, and module fixtures that
    share one keyring because creating keys costs."""

    def call(*args, input=None, env=None):
        return run_in_process(args, input=input, env={**base, **(env or {})})

    call.env = base
    return call


@pytest.fixture
def keyring_env(tmp_path):
    """Environment of a fresh, unlocked-by-passphrase keyring."""
    return make_keyring(tmp_path / "keyring")


@pytest.fixture
def kms(keyring_env):
    """kms("create-key", ...) -> Result, in process, against the fresh keyring."""
    return caller(keyring_env)


@pytest.fixture
def kms_proc(keyring_env):
    def call(*args, input=None, env=None, timeout=120):
        return run_process(args, input=input, env={**keyring_env, **(env or {})}, timeout=timeout)

    return call


def create_key(kms, spec="SYMMETRIC_DEFAULT", usage=None, *extra) -> str:
    args = ["create-key", "--key-spec", spec, *(["--key-usage", usage] if usage else []), *extra]
    return kms(*args).json()["KeyMetadata"]["KeyId"]
