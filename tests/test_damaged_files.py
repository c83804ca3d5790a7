"""Keyring files edited by hand into shapes kmscli never writes: always the one clear
KeyringDamagedException (exit 5), never an internal error, with or without the passphrase."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import create_key
from seed_keys import assert_error

KEY_FILE_EDITS = {
    "KeyState removed": lambda t: re.sub(r"(?m)^KeyState = .*\n", "", t),
    "KeySpec removed": lambda t: re.sub(r"(?m)^KeySpec = .*\n", "", t),
    "KeyUsage removed": lambda t: re.sub(r"(?m)^KeyUsage = .*\n", "", t),
    "Origin removed": lambda t: re.sub(r"(?m)^Origin = .*\n", "", t),
    "CreationDate removed": lambda t: re.sub(r"(?m)^CreationDate = .*\n", "", t, count=1),
    "KeyState a number": lambda t: re.sub(r"(?m)^KeyState = .*$", "KeyState = 5", t),
    "KeySpec a table": lambda t: re.sub(r"(?m)^KeySpec = .*$", "KeySpec = { a = 1 }", t),
    "Description a list": lambda t: re.sub(r"(?m)^Description = .*$", "Description = [1]", t),
    # Past TOML's 64 bits (tomllib reads it as Python's int), and past the 4,300 digits
    # Python's int() converts at all (a ValueError inside tomllib, not a TOMLDecodeError).
    "version of 20 digits": lambda t: re.sub(r"(?m)^version = \d+$", "version = " + "9" * 20, t, count=1),
    "version of 5,000 digits": lambda t: re.sub(r"(?m)^version = \d+$", "version = " + "1" * 5000, t, count=1),
    "CreationDate a TOML datetime": lambda t: re.sub(
        r'(?m)^CreationDate = "(.*)\+00:00"$', r"CreationDate = \1Z", t, count=1
    ),
}


@pytest.mark.parametrize("edit", list(KEY_FILE_EDITS), ids=list(KEY_FILE_EDITS))
@pytest.mark.parametrize("locked", [True, False], ids=["no passphrase", "passphrase"])
def test_a_malformed_key_file_is_damaged_not_an_internal_error(kms, keyring_env, edit, locked):
    key = create_key(kms)
    path = Path(keyring_env["KMSCLI_KEYRING"]) / "keys" / f"{key}.toml"
    text = path.read_text()
    edited = KEY_FILE_EDITS[edit](text)
    assert edited != text
    path.write_text(edited)
    env = {"KMSCLI_PASSPHRASE": None} if locked else {}
    assert_error(kms("describe-key", "--key-id", key, env=env), 5, "KeyringDamagedException")
    if not locked:
        assert_error(kms("encrypt", "--key-id", key, "--plaintext", "x"), 5, "KeyringDamagedException")


def test_materials_entries_that_are_not_tables_are_damaged(kms, keyring_env):
    key = create_key(kms, "ECC_NIST_P256")
    path = Path(keyring_env["KMSCLI_KEYRING"]) / "keys" / f"{key}.toml"
    text = path.read_text()
    head = text[: text.index("[[materials]]")]
    head = head.replace("[metadata]", "materials = [1, 2]\n\n[metadata]")
    path.write_text(head)
    assert_error(kms("get-public-key", "--key-id", key), 5, "KeyringDamagedException")


def test_a_toml_datetime_in_keyring_toml_is_damaged(kms, keyring_env):
    key = create_key(kms)
    path = Path(keyring_env["KMSCLI_KEYRING"]) / "keyring.toml"
    text = path.read_text()
    edited = re.sub(r'(?m)^created = "(.*)"$', r"created = \1", text)
    assert edited != text
    path.write_text(edited)
    assert_error(kms("encrypt", "--key-id", key, "--plaintext", "x"), 5, "KeyringDamagedException")
