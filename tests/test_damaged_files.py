"""Keyring files edited by hand into shapes kmscli never writes: always the one clear
KeyringDamagedException (exit 5), never an internal error, with or without the passphrase."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import create_key
from seed_keys import assert_error


def test_a_toml_datetime_in_keyring_toml_is_damaged(kms, keyring_env):
    key = create_key(kms)
    path = Path(keyring_env["KMSCLI_KEYRING"]) / "keyring.toml"
    text = path.read_text()
    edited = re.sub(r'(?m)^created = "(.*)"$', r"created = \1", text)
    assert edited != text
    path.write_text(edited)
    assert_error(kms("encrypt", "--key-id", key, "--plaintext", "x"), 5, "KeyringDamagedException")


def test_a_toml_datetime_in_a_key_file_is_damaged(kms, keyring_env):
    key = create_key(kms)
    path = Path(keyring_env["KMSCLI_KEYRING"]) / "keys" / f"{key}.toml"
    text = path.read_text()
    edited = re.sub(r'(?m)^CreationDate = "(.*)\+00:00"$', r"CreationDate = \1Z", text, count=1)
    assert edited != text
    path.write_text(edited)
    assert_error(kms("encrypt", "--key-id", key, "--plaintext", "x"), 5, "KeyringDamagedException")
