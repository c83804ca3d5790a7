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


@pytest.mark.parametrize("name", sorted(operations.OPERATIONS))
def test_every_aws_member_is_taken_or_named_as_unoffered(name):
    """A member AWS defines is either carried out or refused by name when it asks for
    something (never silently dropped): the table says which, for every operation."""
    allowed = set(MODEL.operation_model(name).input_shape.members)
    assert allowed <= set(operations.OPERATIONS[name].members) | operations.UNOFFERED_MEMBERS


def test_an_unoffered_member_that_asks_for_nothing_is_accepted_and_one_that_asks_is_refused():
    from kmscli.errors import InvalidGrantTokenException, UnsupportedOperationException

    encrypt = operations.OPERATIONS["Encrypt"]
    assert encrypt.arguments({"KeyId": "k", "GrantTokens": [], "DryRun": False}) == {"key_id": "k"}
    with pytest.raises(InvalidGrantTokenException):
        encrypt.arguments({"KeyId": "k", "GrantTokens": ["token"]})
    with pytest.raises(UnsupportedOperationException, match="DryRun"):
        encrypt.arguments({"KeyId": "k", "DryRun": True})
    with pytest.raises(UnsupportedOperationException, match="Policy"):
        operations.OPERATIONS["CreateKey"].arguments({"Policy": "{}"})


def test_the_deprecated_customer_master_key_spec_is_key_spec_and_not_both():
    from kmscli.errors import ValidationException

    create = operations.OPERATIONS["CreateKey"]
    assert create.arguments({"CustomerMasterKeySpec": "RSA_2048"}) == {"key_spec_name": "RSA_2048"}
    with pytest.raises(ValidationException, match="not both"):
        create.arguments({"CustomerMasterKeySpec": "RSA_2048", "KeySpec": "RSA_2048"})
