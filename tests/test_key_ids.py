"""Key identifiers: key id and key ARN (alias forms are tested with the alias commands);
an ARN of another region or account is NotFound, as in AWS."""

from __future__ import annotations

import uuid

import pytest

from conftest import PASSPHRASE, TEST_LOG2_N, create_key, run_in_process
from seed_keys import assert_error, ok_json


@pytest.fixture
def key(kms):
    return create_key(kms)


def arn(key, region="local", account="000000000000"):
    return f"arn:aws:kms:{region}:{account}:key/{key}"


@pytest.mark.parametrize("form", ["id", "arn"])
def test_every_operation_accepts_the_id_and_the_arn(kms, form):
    sym, mac, ecc = create_key(kms), create_key(kms, "HMAC_256"), create_key(kms, "ECC_NIST_P256")
    name = (lambda k: k) if form == "id" else arn
    blob = ok_json(kms("encrypt", "--key-id", name(sym), "--plaintext", "x"))["CiphertextBlob"]
    assert ok_json(kms("decrypt", "--key-id", name(sym), "--ciphertext-blob", blob))["KeyId"] == arn(sym)
    assert ok_json(kms("describe-key", "--key-id", name(sym)))["KeyMetadata"]["KeyId"] == sym
    assert ok_json(kms("generate-mac", "--key-id", name(mac), "--message", "m", "--mac-algorithm", "HMAC_SHA_256"))
    sig = ok_json(kms("sign", "--key-id", name(ecc), "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"))
    assert sig["KeyId"] == arn(ecc)
    assert ok_json(kms("get-public-key", "--key-id", name(ecc)))["KeyId"] == arn(ecc)


@pytest.mark.parametrize(
    "make",
    [
        lambda k: arn(k, region="us-east-1"),
        lambda k: arn(k, account="123456789012"),
        lambda k: arn(k, region="", account=""),
        lambda k: str(uuid.uuid4()),
        lambda k: arn(str(uuid.uuid4())),
        lambda k: arn("not-a-uuid"),
        lambda k: k.upper(),
        lambda k: k + "\n",
        lambda k: "../" + k,
        lambda k: f"keys/{k}",
        lambda k: "alias/none",
        lambda k: "arn:aws:kms:local:000000000000:alias/none",
        lambda k: "x" * 3000,
    ],
)
def test_wrong_identifiers_are_not_found(kms, key, make):
    for command in (["describe-key"], ["encrypt", "--plaintext", "x"]):
        r = kms(*command, "--key-id", make(key))
        name = "ValidationException" if len(make(key)) > 2048 else "NotFoundException"
        assert_error(r, 2 if name == "ValidationException" else 3, name)


def test_region_and_account_are_set_per_keyring(tmp_path):
    env = {"KMSCLI_KEYRING": str(tmp_path / "k"), "KMSCLI_PASSPHRASE": PASSPHRASE}
    r = run_in_process(["init", "--scrypt-log2-n", TEST_LOG2_N, "--region", "eu-west-1", "--account-id", "111122223333"], env=env)
    assert r.status == 0, r.stderr
    meta = ok_json(run_in_process(["create-key"], env=env))["KeyMetadata"]
    assert meta["Arn"] == f"arn:aws:kms:eu-west-1:111122223333:key/{meta['KeyId']}"
    assert meta["AWSAccountId"] == "111122223333"
    assert ok_json(run_in_process(["describe-key", "--key-id", meta["Arn"]], env=env))
    r = run_in_process(["describe-key", "--key-id", arn(meta["KeyId"])], env=env)
    assert_error(r, 3, "NotFoundException")
