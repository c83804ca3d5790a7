"""rotate-master-key rewraps the access keys of `kmscli serve` with every other secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PASSPHRASE
from serve_util import serve_in_thread

from kmscli.errors import KeyringDamagedException
from kmscli.keyring import Keyring
from kmscli.keyring import format as fmt
from kmscli.service import access_keys


def open_with(path) -> Keyring:
    keyring = Keyring.open(Path(path))
    keyring.unlock_with_passphrase(PASSPHRASE.encode())
    return keyring


def test_rotate_master_key_rewraps_access_key_secrets(kms, keyring_env):
    created = kms("create-access-key").json()["AccessKey"]
    akid = created["AccessKeyId"]
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    old_master = open_with(ring).master_key
    before = (ring / fmt.ACCESS_KEYS_FILE).read_text()
    assert kms("rotate-master-key").status == 0
    assert (ring / fmt.ACCESS_KEYS_FILE).read_text() != before

    keyring = open_with(ring)
    assert keyring.master_key != old_master
    assert access_keys.SecretLookup(keyring)(akid) == created["SecretAccessKey"].encode()
    entry = keyring.load_access_keys(verify=True)[akid]
    with pytest.raises(KeyringDamagedException):  # the old master key opens nothing any more
        keyring.open_secret(entry, fmt.access_key_secret_aad(akid), "secret", master=old_master)
    assert kms("list-access-keys").json()["AccessKeyMetadata"][0]["AccessKeyId"] == akid


def test_a_server_started_after_the_rotation_accepts_the_rotated_access_key(kms, keyring_env):
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    kms("create-access-key")
    assert kms("rotate-master-key").status == 0
    with serve_in_thread(ring) as endpoint:
        client = endpoint.client()
        key = client.create_key()["KeyMetadata"]["KeyId"]
        assert client.decrypt(CiphertextBlob=client.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"])["Plaintext"] == b"x"


def test_a_server_running_across_a_rotation_says_to_restart_it(kms, keyring_env):
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    with serve_in_thread(ring) as endpoint:
        client = endpoint.client()
        key = client.create_key()["KeyMetadata"]["KeyId"]
        assert kms("rotate-master-key").status == 0
        with pytest.raises(client.exceptions.KMSInternalException, match="restart kmscli serve"):
            client.encrypt(KeyId=key, Plaintext=b"x")
        with pytest.raises(client.exceptions.KMSInternalException, match="restart kmscli serve"):
            client.create_key()
    assert len(kms("list-keys").json()["Keys"]) == 1  # the refused write changed nothing
