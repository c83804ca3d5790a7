"""One keyring with a key of every seed spec and usage, shared by the tests of a session.

Key generation is the slow part of these tests (RSA_4096 takes seconds), so the keys are
made once; tests that use them must not change them (no state changes, no rotation).
Import the fixture into a test module with ``from seed_keys import seed  # noqa: F401``.
"""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import PASSPHRASE, TEST_LOG2_N, Result, run_in_process

from kmscli import specs

# The specs and usages the foundation offers (issue 2); others are added elsewhere.
SEED_PAIRS = [
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
    ("HMAC_224", "GENERATE_VERIFY_MAC"),
    ("HMAC_256", "GENERATE_VERIFY_MAC"),
    ("HMAC_384", "GENERATE_VERIFY_MAC"),
    ("HMAC_512", "GENERATE_VERIFY_MAC"),
    ("RSA_2048", "ENCRYPT_DECRYPT"),
    ("RSA_3072", "ENCRYPT_DECRYPT"),
    ("RSA_4096", "ENCRYPT_DECRYPT"),
    ("RSA_2048", "SIGN_VERIFY"),
    ("RSA_3072", "SIGN_VERIFY"),
    ("RSA_4096", "SIGN_VERIFY"),
    ("ECC_NIST_P256", "SIGN_VERIFY"),
    ("ECC_NIST_P384", "SIGN_VERIFY"),
    ("ECC_NIST_P521", "SIGN_VERIFY"),
    ("ECC_SECG_P256K1", "SIGN_VERIFY"),
]

# Every (spec, usage, algorithm) the seed specs support, read from the catalogue.
SEED_ALGORITHMS = [
    (spec, usage, algorithm)
    for spec, usage in SEED_PAIRS
    for algorithm in specs.KEY_SPECS[spec].algorithms[usage]
]


@dataclass
class SeedKeyring:
    path: Path
    env: dict
    keys: dict = field(default_factory=dict)  # (spec, usage) -> key id

    def run(self, *args, input: bytes | None = None, env: dict | None = None) -> Result:
        return run_in_process(args, input=input, env={**self.env, **(env or {})})

    def key(self, spec: str, usage: str) -> str:
        return self.keys[(spec, usage)]


@pytest.fixture(scope="session")
def seed(tmp_path_factory) -> SeedKeyring:
    path = tmp_path_factory.mktemp("seed") / "keyring"
    env = {
        "KMSCLI_KEYRING": str(path),
        "KMSCLI_PASSPHRASE": PASSPHRASE,
        "KMSCLI_PASSPHRASE_FILE": None,
        "KMSCLI_SESSION": None,
        "KMSCLI_OUTPUT": None,
    }
    ring = SeedKeyring(path, env)
    r = ring.run("init", "--scrypt-log2-n", TEST_LOG2_N)
    assert r.status == 0, r.stderr
    for spec, usage in SEED_PAIRS:
        r = ring.run("create-key", "--key-spec", spec, "--key-usage", usage)
        ring.keys[(spec, usage)] = r.json()["KeyMetadata"]["KeyId"]
    return ring


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def ok_json(result: Result) -> dict:
    """The JSON result of a command that must succeed, with nothing on stderr."""
    assert result.status == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def assert_error(result: Result, status: int, name: str) -> str:
    """A failure as the contract shows it: stdout empty, one error line (+ hints)."""
    assert result.status == status, (result.status, result.stderr)
    assert result.stdout == b""
    lines = result.stderr.splitlines()
    assert lines, "no error message"
    assert lines[0].startswith(f"kmscli: error: {name}: "), result.stderr
    assert all(line.startswith("kmscli: hint: ") for line in lines[1:]), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def openssl(*args, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, timeout=60)
