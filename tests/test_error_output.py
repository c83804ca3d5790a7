"""Failures as the contract shows them: one line `kmscli: error: Name: message`, optional
hint lines, nothing on stdout, the right exit status, and never a traceback."""

from __future__ import annotations

import io
import sys

import pytest

from conftest import PASSPHRASE, create_key, run_in_process, run_process
from seed_keys import assert_error

from kmscli import errors
from kmscli.cli.main import main


def test_exit_statuses_of_the_contract():
    expected = {
        "KMSInvalidSignatureException": 1,
        "KMSInvalidMacException": 1,
        "ValidationException": 2,
        "NotFoundException": 3,
        "DisabledException": 3,
        "KMSInvalidStateException": 3,
        "InvalidKeyUsageException": 3,
        "IncorrectKeyException": 3,
        "InvalidCiphertextException": 3,
        "UnsupportedOperationException": 3,
        "LimitExceededException": 3,
        "KeyringLockedException": 4,
        "IncorrectPassphraseException": 4,
        "KeyringDamagedException": 5,
        "KeyringNotFoundException": 3,
        "FileAccessException": 5,
    }
    assert {name: int(getattr(errors, name).status) for name in expected} == expected


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus", "list-keys"],
        ["list-keys", "--bogus"],
        ["encrypt", "--key-id", "k", "--plaintext", "x", "--no-such-option"],
        ["no-such-command"],
        ["encrypt", "--plaintext", "x"],  # a required option is missing
        ["encrypt", "--key-id", "k", "--plaintext", "x", "--in", "f"],  # two sources
        ["list-keys", "--limit", "many"],
        ["--output", "yaml", "list-keys"],
    ],
)
def test_usage_errors(kms, args):
    r = kms(*args)
    assert_error(r, 2, "ValidationException")


@pytest.mark.parametrize(
    "args",
    [
        ["decrypt", "--ciphertext-blob", "%%%"],
        ["verify", "--key-id", "K", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256", "--signature", "abc"],
        ["verify-mac", "--key-id", "K", "--message", "m", "--mac-algorithm", "HMAC_SHA_256", "--mac", "a b c"],
    ],
)
def test_bad_base64(kms, args):
    key = create_key(kms)
    line = assert_error(kms(*[key if a == "K" else a for a in args]), 2, "ValidationException")
    assert "base64" in line


@pytest.mark.parametrize(
    "command",
    [
        ["encrypt", "--key-id", "K"],
        ["decrypt"],
        ["sign", "--key-id", "K", "--signing-algorithm", "ECDSA_SHA_256"],
        ["generate-mac", "--key-id", "K", "--mac-algorithm", "HMAC_SHA_256"],
    ],
)
def test_missing_input_file(kms, tmp_path, command):
    key = create_key(kms)
    r = kms(*[key if a == "K" else a for a in command], "--in", tmp_path / "missing")
    line = assert_error(r, 5, "FileAccessException")
    assert "missing" in line


@pytest.mark.parametrize(
    "spec,command",
    [
        ("SYMMETRIC_DEFAULT", ["encrypt"]),
        ("ECC_NIST_P256", ["sign", "--signing-algorithm", "ECDSA_SHA_256"]),
        ("HMAC_256", ["generate-mac", "--mac-algorithm", "HMAC_SHA_256"]),
        (None, ["decrypt"]),
    ],
)
def test_empty_input(kms, tmp_path, spec, command):
    (tmp_path / "empty").write_bytes(b"")
    key_args = ["--key-id", create_key(kms, spec)] if spec else []
    r = kms(*command, *key_args, "--in", tmp_path / "empty")
    assert_error(r, 2, "ValidationException")


class _CountingStdin(io.BytesIO):
    def isatty(self):
        return False


@pytest.mark.parametrize(
    "spec,command,limit",
    [
        ("SYMMETRIC_DEFAULT", ["encrypt"], 4096),
        (None, ["decrypt"], 6144),
        # sign/verify --in stream inputs of any size (signed as their digest): not limited here.
        ("HMAC_256", ["generate-mac", "--mac-algorithm", "HMAC_SHA_256"], 4096),
    ],
)
def test_oversize_input_is_refused_after_reading_at_most_limit_plus_one_bytes(
    kms, keyring_env, monkeypatch, capsys, spec, command, limit
):
    key_args = ["--key-id", create_key(kms, spec)] if spec else []
    stream = _CountingStdin(b"\x01" * (1 << 20))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream))
    for name, value in keyring_env.items():
        monkeypatch.setenv(name, value)
    status = main([*command, *key_args, "--in", "-"])
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith("kmscli: error: ValidationException: ") and str(limit) in err
    assert stream.tell() == limit + 1


def test_oversize_input_from_an_endless_file_ends_quickly(kms_proc, kms):
    key = create_key(kms)
    r = kms_proc("encrypt", "--key-id", key, "--in", "/dev/zero", timeout=30)
    assert_error(r, 2, "ValidationException")


def test_missing_keyring_hints_at_init(tmp_path):
    r = run_in_process(["--keyring", tmp_path / "nowhere", "encrypt", "--key-id", "k", "--plaintext", "x"],
                       env={"KMSCLI_PASSPHRASE": PASSPHRASE})
    assert_error(r, 3, "KeyringNotFoundException")
    hint = r.stderr.splitlines()[1]
    assert hint.startswith("kmscli: hint: ") and "kmscli" in hint[len("kmscli: hint: "):] and " init" in hint


def test_a_directory_without_a_keyring_hints_at_init(tmp_path):
    (tmp_path / "empty").mkdir(mode=0o700)
    r = run_in_process(["--keyring", tmp_path / "empty", "list-keys"])
    assert_error(r, 3, "KeyringNotFoundException")
    assert " init" in r.stderr


def test_locked_keyring_in_a_real_process_with_a_pipe_for_stdin(kms_proc, kms):
    key = create_key(kms)
    r = kms_proc("encrypt", "--key-id", key, "--plaintext", "x", env={"KMSCLI_PASSPHRASE": None}, input=b"")
    assert_error(r, 4, "KeyringLockedException")
    assert "kmscli: hint: " in r.stderr


@pytest.mark.parametrize(
    "args,status,name",
    [
        (["--bogus"], 2, "ValidationException"),
        (["decrypt", "--ciphertext-blob", "!!"], 2, "ValidationException"),
        (["decrypt", "--in", "/nonexistent/blob"], 5, "FileAccessException"),
        (["decrypt", "--ciphertext-blob", "AQID"], 3, "InvalidCiphertextException"),
        (["describe-key", "--key-id", "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000"],
         3, "NotFoundException"),
    ],
)
def test_no_traceback_in_a_real_process(kms_proc, args, status, name):
    r = kms_proc(*args)
    assert_error(r, status, name)


def test_an_error_message_is_one_line_whatever_it_holds(kms):
    r = kms("describe-key", "--key-id", "line one\nline two\r\nkmscli: error: forged")
    line = assert_error(r, 3, "NotFoundException")
    assert len([l for l in r.stderr.splitlines() if l.startswith("kmscli: error:")]) == 1
    assert "line one" in line


def test_an_internal_error_is_one_line_without_a_traceback(kms, monkeypatch):
    from kmscli.service import keys

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(keys, "list_keys", broken)
    r = kms("list-keys")
    assert_error(r, 5, "KMSInternalException")
    assert "secret detail" not in r.stderr
    assert "--debug" in r.stderr


def test_help_and_version_succeed(kms):
    r = kms("--version")
    assert r.status == 0 and r.out.startswith("kmscli ")
    for command in ("encrypt", "decrypt", "sign", "verify", "get-public-key", "generate-mac", "verify-mac", "create-key"):
        r = kms(command, "--help")
        assert r.status == 0, r.stderr
        assert "Example:" in r.out


def test_every_refusal_names_a_next_step(kms):
    """Errors the core raised without a hint of their own still end with one (issue: every
    error one line plus a hint naming the next command); a plain "no" (exit 1) needs none."""
    key = create_key(kms)
    r = kms("create-key", "--key-spec", "RSA_2048", "--key-usage", "GENERATE_VERIFY_MAC")
    assert r.status == 2 and r.stderr.splitlines()[1] == "kmscli: hint: valid: ENCRYPT_DECRYPT, SIGN_VERIFY (see kmscli create-key --help)"
    r = kms("sign", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256")
    assert r.status == 3 and f"kmscli describe-key --key-id {key}" in r.stderr.splitlines()[1]
    hmac_key = create_key(kms, "HMAC_256")
    r = kms("verify-mac", "--key-id", hmac_key, "--message", "m", "--mac-algorithm", "HMAC_SHA_256", "--mac", "AAAA")
    assert r.status == 1 and len(r.stderr.splitlines()) == 1
