"""The service layer is the Python API (STYLE: the CLI is one of its consumers): the example
in kmscli/service/__init__.py works as written, with bytes in and bytes out."""

from __future__ import annotations

import pytest

from conftest import PASSPHRASE

from kmscli.errors import InvalidCiphertextException, KeyringLockedException
from kmscli.keyring import Keyring
from kmscli.service import encryption, keys


def test_the_documented_python_api(tmp_path):
    Keyring.create(tmp_path / "ring", PASSPHRASE.encode(), scrypt_log2_n=10)
    keyring = Keyring.open(tmp_path / "ring", unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    key = keys.create_key(keyring)["KeyMetadata"]["KeyId"]
    blob = encryption.encrypt(keyring, key, b"secret", encryption_context={"a": "b"})["CiphertextBlob"]
    assert isinstance(blob, bytes)
    assert encryption.decrypt(keyring, blob, encryption_context={"a": "b"})["Plaintext"] == b"secret"
    with pytest.raises(InvalidCiphertextException):
        encryption.decrypt(keyring, blob)


def test_a_keyring_opened_without_an_unlocker_reads_metadata_but_is_locked(tmp_path):
    created = Keyring.create(tmp_path / "ring", PASSPHRASE.encode(), scrypt_log2_n=10)
    key = keys.create_key(created)["KeyMetadata"]["KeyId"]
    keyring = Keyring.open(tmp_path / "ring")
    assert keys.describe_key(keyring, key)["KeyMetadata"]["KeyId"] == key
    with pytest.raises(KeyringLockedException):
        encryption.encrypt(keyring, key, b"secret")
