"""Checks from moto's own KMS test suite where kmscli answered otherwise than AWS does.

moto's suite (github.com/getmoto/moto, tests/test_kms/, Apache License 2.0) was run against
``kmscli serve`` with tools/foreign_suites/run_moto_kms.py (docs/serve-tests.md has the
triage). Where a failure showed kmscli differing from AWS, kmscli was fixed, and the request
and AWS's answer are checked here again, in our own words (no moto code is used; the moto test
each check comes from is named). AWS is the referee: where moto's expectation is only moto's
own behaviour (a Verify that answers SignatureValid=False, a bare key id from
ScheduleKeyDeletion), it is not here, and docs/serve-tests.md says why.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from serve_clients import served  # noqa: F401


@pytest.fixture(scope="module")
def kms(served):
    return served.client()


def refusal(call, **kwargs) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def key_id(kms) -> str:
    return kms.create_key(Description="moto-suite")["KeyMetadata"]["KeyId"]


def alias_arn(kms, name: str) -> str:
    arn = kms.describe_key(KeyId=key_id(kms))["KeyMetadata"]["Arn"]
    return arn.split(":key/")[0] + ":" + name


# moto: test__create_alias__raises_if_alias_has_restricted_characters (AWS's front end checks
# the model's AliasNameType pattern before the operation looks at anything).
@pytest.mark.parametrize("name", ["alias/my-alias!", "alias/my-alias$", "alias/my-alias@", "alias/semi;colon"])
def test_an_alias_name_outside_the_models_pattern(kms, name):
    target = key_id(kms)
    assert refusal(kms.create_alias, AliasName=name, TargetKeyId=target) == (
        400,
        "ValidationException",
        f"1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
    )
    assert kms.list_aliases(KeyId=target)["Aliases"] == []


# moto: test__create_alias__raises_if_alias_has_restricted_characters_semicolon (a colon: the
# pattern allows it, AWS's rule for alias names does not).
def test_an_alias_name_with_a_colon(kms):
    target = key_id(kms)
    assert refusal(kms.create_alias, AliasName="alias/my:alias", TargetKeyId=target) == (
        400,
        "ValidationException",
        "alias/my:alias contains invalid characters for an alias",
    )
    assert kms.list_aliases(KeyId=target)["Aliases"] == []


# moto: test__create_alias__accepted_characters
@pytest.mark.parametrize("name", ["alias/my-alias_/", "alias/my_alias-/"])
def test_alias_names_aws_accepts(kms, name):
    target = key_id(kms)
    kms.create_alias(AliasName=name, TargetKeyId=target)
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=target)["Aliases"]] == [name]


# moto: test__create_alias__raises_if_duplicate
def test_a_duplicate_alias_is_named_by_its_arn(kms):
    kms.create_alias(AliasName="alias/moto-duplicate", TargetKeyId=key_id(kms))
    assert refusal(kms.create_alias, AliasName="alias/moto-duplicate", TargetKeyId=key_id(kms)) == (
        400,
        "AlreadyExistsException",
        f"An alias with the name {alias_arn(kms, 'alias/moto-duplicate')} already exists",
    )


# moto: test__delete_alias__raises_if_alias_is_not_found; the same words wherever an alias
# that does not exist is named.
def test_an_alias_that_does_not_exist_is_named_by_its_arn(kms):
    expected = (400, "NotFoundException", f"Alias {alias_arn(kms, 'alias/unknown-alias')} is not found.")
    assert refusal(kms.delete_alias, AliasName="alias/unknown-alias") == expected
    assert refusal(kms.update_alias, AliasName="alias/unknown-alias", TargetKeyId=key_id(kms)) == expected
    assert refusal(kms.encrypt, KeyId="alias/unknown-alias", Plaintext=b"x") == expected
    assert refusal(kms.describe_key, KeyId=alias_arn(kms, "alias/unknown-alias")) == expected


# moto: test_unknown_tag_methods (Tags may be empty in AWS's model: the key is looked at first).
def test_tagging_an_unknown_key_with_no_tags(kms):
    expected = (400, "NotFoundException", "Invalid keyId 'unknown'")
    assert refusal(kms.tag_resource, KeyId="unknown", Tags=[]) == expected
    assert refusal(kms.untag_resource, KeyId="unknown", TagKeys=[]) == expected
    assert refusal(kms.list_resource_tags, KeyId="unknown") == expected


def test_no_tags_for_a_key_is_refused_in_words_of_the_api(kms):
    status, code, message = refusal(kms.tag_resource, KeyId=key_id(kms), Tags=[])
    assert (status, code) == (400, "ValidationException")
    assert "--tag" not in message  # a command line option means nothing to an SDK's caller
