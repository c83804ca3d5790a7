"""Differences between the tool and /work/shared/cli-contract.md (or aws-cli, where the
contract is silent) found by trying every promise for real; one test per fix."""

from __future__ import annotations

import pytest

from conftest import create_key
from seed_keys import assert_error


@pytest.mark.parametrize(
    "args, command",
    [
        (["encrypt", "--plaintext", "x", "--key-id"], "encrypt"),
        (["list-keys", "--limit"], "list-keys"),
        (["sign", "--output"], "sign"),
    ],
)
def test_a_missing_option_value_hints_at_the_command_that_was_typed(kms, args, command):
    r = kms(*args)
    assert_error(r, 2, "ValidationException")
    assert r.stderr.splitlines()[1] == f"kmscli: hint: run: kmscli {command} --help"


def test_a_missing_global_option_value_hints_at_kmscli_help(kms):
    r = kms("--output")
    assert_error(r, 2, "ValidationException")
    assert "COMMAND" not in r.stderr
