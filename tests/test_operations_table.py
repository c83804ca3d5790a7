"""The operations table (kmscli.service.operations) against AWS's own service model."""

import inspect

import botocore.session
import pytest

from kmscli.service import operations

MODEL = botocore.session.get_session().get_service_model("kms")


@pytest.mark.parametrize("name", sorted(operations.OPERATIONS))
def test_every_operation_is_awss_and_takes_only_awss_members(name):
    op = operations.OPERATIONS[name]
    assert name in MODEL.operation_names
    allowed = set(MODEL.operation_model(name).input_shape.members)
    assert set(op.members) <= allowed, set(op.members) - allowed


@pytest.mark.parametrize("name", sorted(operations.OPERATIONS))
def test_every_operation_takes_every_member_of_awss_input_shape(name):
    """A request AWS accepts is never refused for a member kmscli does not know: each member
    reaches the service function, which honours it or refuses it with a reason."""
    model_members = set(MODEL.operation_model(name).input_shape.members)
    assert set(operations.OPERATIONS[name].members) == model_members, model_members ^ set(operations.OPERATIONS[name].members)


@pytest.mark.parametrize("name", sorted(operations.OPERATIONS))
def test_every_member_names_an_argument_of_the_service_function(name):
    op = operations.OPERATIONS[name]
    parameters = inspect.signature(op.function()).parameters
    for member in op.members:
        assert op.argument(member) in parameters, (name, member)
    for argument in op.fixed:
        assert argument in parameters, (name, argument)


def test_an_operation_kmscli_does_not_offer_is_unsupported():
    from kmscli.errors import UnsupportedOperationException

    with pytest.raises(UnsupportedOperationException, match="CreateGrant"):
        operations.operation("CreateGrant")


def test_a_member_the_operation_does_not_take_is_refused_by_name():
    from kmscli.errors import ValidationException

    with pytest.raises(ValidationException, match="Bogus"):
        operations.OPERATIONS["DescribeKey"].arguments({"KeyId": "k", "Bogus": 1})


def test_invoke_carries_out_a_round_trip_through_the_table(tmp_path):
    from kmscli.keyring import Keyring
    from tests.conftest import PASSPHRASE

    Keyring.create(tmp_path / "ring", PASSPHRASE.encode(), scrypt_log2_n=10)
    keyring = Keyring.open(tmp_path / "ring", unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    key = operations.invoke(keyring, "CreateKey", {"Description": "d"})["KeyMetadata"]["KeyId"]
    blob = operations.invoke(
        keyring, "Encrypt", {"KeyId": key, "Plaintext": b"hi", "EncryptionContext": {"a": "b"}}
    )["CiphertextBlob"]
    answer = operations.invoke(keyring, "Decrypt", {"CiphertextBlob": blob, "EncryptionContext": {"a": "b"}})
    assert answer["Plaintext"] == b"hi"
    assert len(operations.invoke(None, "GenerateRandom", {"NumberOfBytes": 7})["Plaintext"]) == 7
    pair = operations.invoke(keyring, "GenerateDataKeyWithoutPlaintext", {"KeyId": key, "KeySpec": "AES_256"})
    assert "Plaintext" not in pair


def test_the_cross_cutting_members_through_the_table(tmp_path):
    """What serve and the endpoint mode get: the same honouring and refusals as the CLI."""
    from kmscli.errors import CustomKeyStoreNotFoundException, DryRunOperationException, UnsupportedOperationException
    from kmscli.keyring import Keyring
    from tests.conftest import PASSPHRASE

    Keyring.create(tmp_path / "ring", PASSPHRASE.encode(), scrypt_log2_n=10)
    keyring = Keyring.open(tmp_path / "ring", unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    meta = operations.invoke(keyring, "CreateKey", {"CustomerMasterKeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC", "MultiRegion": False})["KeyMetadata"]
    assert meta["KeySpec"] == "HMAC_256"
    key = operations.invoke(keyring, "CreateKey", {})["KeyMetadata"]["KeyId"]
    request = {"KeyId": key, "Plaintext": b"x", "GrantTokens": ["t"], "DryRun": True}
    with pytest.raises(DryRunOperationException):
        operations.invoke(keyring, "Encrypt", request)
    with pytest.raises(UnsupportedOperationException, match="key policies"):
        operations.invoke(keyring, "CreateKey", {"Policy": "{}"})
    with pytest.raises(CustomKeyStoreNotFoundException):
        operations.invoke(None, "GenerateRandom", {"NumberOfBytes": 1, "CustomKeyStoreId": "cks-1"})
    assert set(operations.invoke(keyring, "ListKeys", {"ResourceOwners": ["SELF"]})["Keys"][0]) == {"KeyId", "KeyArn"}
