"""What `kmscli serve` keeps between requests never hides a change to the keyring.

The server keeps verified key documents (while the file's bytes are the same), the aliases
document and the access keys' secrets (while the file's stamp is the same), and derived SigV4
signing keys. Each test warms what is kept with requests first, changes the keyring from
another process (the CLI) or by hand, and checks that the very next request sees it.
"""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError

from serve_clients import cli, cli_json, served  # noqa: F401

WARM = 5  # requests before the change: whatever is kept is kept by then


def _code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def kms(served):
    return served.client()


def test_a_key_disabled_by_the_cli_is_refused_at_the_next_request(served, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(WARM):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    status, _, err = cli(served.env, "disable-key", "--key-id", key)
    assert status == 0, err
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert _code(excinfo) == "DisabledException"
    with pytest.raises(ClientError) as excinfo:
        kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    assert _code(excinfo) == "DisabledException"
    status, _, err = cli(served.env, "enable-key", "--key-id", key)
    assert status == 0, err
    kms.encrypt(KeyId=key, Plaintext=b"x")


def test_a_rotation_by_the_cli_is_used_at_the_next_request(served, kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    before = {kms.generate_data_key(KeyId=key, KeySpec="AES_256")["KeyMaterialId"] for _ in range(WARM)}
    assert len(before) == 1
    status, _, err = cli(served.env, "rotate-key-on-demand", "--key-id", key)
    assert status == 0, err
    after = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    assert after["KeyMaterialId"] not in before
    assert kms.decrypt(CiphertextBlob=after["CiphertextBlob"])["KeyMaterialId"] == after["KeyMaterialId"]


def _two_keys_and_a_warm_alias(kms, alias: str) -> tuple[str, str]:
    """Two new keys, ``alias`` on the first, followed until serve keeps what it read."""
    first = kms.create_key()["KeyMetadata"]["KeyId"]
    second = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=first)
    for _ in range(WARM):
        assert kms.encrypt(KeyId=alias, Plaintext=b"x")["KeyId"].endswith(first)
    return first, second


def test_an_alias_moved_by_the_cli_is_followed_at_the_next_request(served, kms):
    first, second = _two_keys_and_a_warm_alias(kms, "alias/moving")
    status, _, err = cli(served.env, "update-alias", "--alias-name", "alias/moving", "--target-key-id", second)
    assert status == 0, err
    assert kms.encrypt(KeyId="alias/moving", Plaintext=b"x")["KeyId"].endswith(second)
    status, _, err = cli(served.env, "delete-alias", "--alias-name", "alias/moving")
    assert status == 0, err
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId="alias/moving", Plaintext=b"x")
    assert _code(excinfo) == "NotFoundException"


def test_a_key_deleted_after_its_waiting_period_is_gone_at_the_next_request(served, kms):
    # The CLI's own deletion path (the sweep needs days to pass): the key file is removed.
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    for _ in range(WARM):
        kms.encrypt(KeyId=key, Plaintext=b"x")
    os.unlink(served.keyring / "keys" / f"{key}.toml")
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert _code(excinfo) == "NotFoundException"


def _edit_in_place_keeping_the_stamp(path, old: bytes, new: bytes) -> None:
    """A hand edit of the same length, written into the same inode, with the modification
    time put back: only the bytes (and the change time, which no user can set) differ."""
    assert len(old) == len(new)
    st = os.stat(path)
    data = path.read_bytes()
    assert data.count(old) == 1, path
    with open(path, "r+b") as f:
        f.write(data.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)


def test_a_key_file_edited_by_hand_is_refused_even_with_its_stamp_kept(served, kms):
    key = kms.create_key(Description="enabled")["KeyMetadata"]["KeyId"]
    status, _, err = cli(served.env, "disable-key", "--key-id", key)
    assert status == 0, err
    for _ in range(WARM):
        with pytest.raises(ClientError):
            kms.encrypt(KeyId=key, Plaintext=b"x")
    # Turn the key on by hand (its integrity tag then no longer matches): refused as damaged.
    path = served.keyring / "keys" / f"{key}.toml"
    _edit_in_place_keeping_the_stamp(path, b'KeyState = "Disabled"', b'KeyState = "Enabled" ')
    with pytest.raises(ClientError) as excinfo:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert _code(excinfo) == "KMSInternalException"
    assert "altered or damaged" in excinfo.value.response["Error"]["Message"]


def test_an_aliases_file_edited_by_hand_is_refused_even_with_its_stamp_kept(served, kms):
    first, second = _two_keys_and_a_warm_alias(kms, "alias/pinned")
    # Point the alias at another key by hand, in its bucket: same length (both are UUIDs),
    # same stamp.
    from kmscli.keyring.format import alias_bucket

    aliases = served.keyring / "aliases" / f"{alias_bucket('alias/pinned')}.toml"
    _edit_in_place_keeping_the_stamp(aliases, first.encode(), second.encode())
    try:
        with pytest.raises(ClientError) as excinfo:
            kms.encrypt(KeyId="alias/pinned", Plaintext=b"x")
        assert _code(excinfo) == "KMSInternalException"
        assert "altered or damaged" in excinfo.value.response["Error"]["Message"]
    finally:  # the module's other tests share this keyring
        _edit_in_place_keeping_the_stamp(aliases, second.encode(), first.encode())
    assert kms.encrypt(KeyId="alias/pinned", Plaintext=b"x")["KeyId"].endswith(first)


def test_an_access_key_deleted_by_the_cli_is_refused_at_the_next_request(served):
    second = cli_json(served.env, "create-access-key")["AccessKey"]
    client = served.client(second["AccessKeyId"], second["SecretAccessKey"])
    for _ in range(WARM):  # its secret and its scope's signing key are now kept
        client.list_keys(Limit=1)
    assert cli_json(served.env, "delete-access-key", "--access-key-id", second["AccessKeyId"]) is None
    with pytest.raises(ClientError) as excinfo:
        client.list_keys(Limit=1)
    assert _code(excinfo) == "UnrecognizedClientException"


def test_a_kept_key_document_is_never_shared_with_a_caller(tmp_path):
    # Through the Python API: callers change the documents load_key gives them (a state
    # change, a rotation) before saving; what the keyring keeps must stay as verified.
    from kmscli.keyring import Keyring
    from kmscli.service import operations

    Keyring.create(tmp_path / "k", b"passphrase", scrypt_log2_n=10)
    keyring = Keyring.open(tmp_path / "k", unlocker=lambda k: k.master_from_passphrase(b"passphrase"))
    key = operations.invoke(keyring, "CreateKey", {})["KeyMetadata"]["KeyId"]
    first = keyring.load_key(key, verify=True)
    first["metadata"]["KeyState"] = "Disabled"
    first["materials"].clear()
    second = keyring.load_key(key, verify=True)
    assert second["metadata"]["KeyState"] == "Enabled" and second["materials"]
    assert second is not first and second["metadata"] is not first["metadata"]
    operations.invoke(keyring, "Encrypt", {"KeyId": key, "Plaintext": b"x"})
