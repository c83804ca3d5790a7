"""Bad input is exit 2, never an internal error: deep nesting (issue 11).

Each of these raised RecursionError, reported as "internal error" with exit 5; and one key
file of nested brackets made every write to the keyring fail (the lifecycle sweep reads
every key file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import create_key

DEPTH = 100_000


@pytest.mark.parametrize(
    "args",
    [
        ["encrypt", "--key-id", "{key}", "--plaintext", "x", "--encryption-context", "[" * DEPTH],
        ["encrypt", "--key-id", "{key}", "--plaintext", "x", "--encryption-context", '{"a":' * DEPTH],
        ["create-key", "--tags", "[" * DEPTH],
        ["tag-resource", "--key-id", "{key}", "--tags", "[" * DEPTH],
        ["list-keys", "--query", "(" * DEPTH + "Keys" + ")" * DEPTH],
        ["list-keys", "--query", "[" * 5000 + "]" * 5000],
        ["list-keys", "--query", "Keys" + "[?a" * 5000],
    ],
)
def test_deeply_nested_input_is_bad_input(kms, args):
    key = create_key(kms)
    r = kms(*[a.replace("{key}", key) if isinstance(a, str) and len(a) < 10 else a for a in args])
    assert r.status == 2, r.stderr
    assert "ValidationException" in r.stderr and "internal error" not in r.stderr
    assert len(r.stderr) < 2000  # the input is not echoed back


def test_a_key_file_of_nested_arrays_blocks_only_that_key(kms, keyring_env):
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    good, bad = create_key(kms), create_key(kms)
    path = ring / "keys" / f"{bad}.toml"
    path.write_text(path.read_text() + "\nnested = " + "[" * 50_000 + "]" * 50_000 + "\n")
    for args in (["describe-key", "--key-id", bad], ["encrypt", "--key-id", bad, "--plaintext", "x"]):
        r = kms(*args)
        assert r.status == 5 and "KeyringDamagedException" in r.stderr and "internal error" not in r.stderr
    assert kms("create-key").status == 0  # every write reads every key file (the sweep)
    assert kms("tag-resource", "--key-id", good, "--tags", "TagKey=a,TagValue=b").status == 0
    assert kms("encrypt", "--key-id", good, "--plaintext", "x").status == 0
    r = kms("list-keys")
    assert r.status == 0, r.stderr
    assert good in r.out
