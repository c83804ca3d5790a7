"""get-key-policy and list-key-policies at the command line: AWS's default key policy, read-only."""

from __future__ import annotations

import json

from conftest import create_key
from seed_keys import assert_error


def test_a_key_shows_awss_default_policy_without_the_passphrase(kms):
    key = create_key(kms)
    account = kms("describe-key", "--key-id", key).json()["KeyMetadata"]["AWSAccountId"]
    locked = {"KMSCLI_PASSPHRASE": None}
    answer = kms("get-key-policy", "--key-id", key, env=locked).json()
    assert answer["PolicyName"] == "default"
    statement = json.loads(answer["Policy"])["Statement"]
    assert statement == [{"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                          "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]
    assert kms("list-key-policies", "--key-id", key, env=locked).json() == {"PolicyNames": ["default"], "Truncated": False}


def test_no_other_policy_and_no_unknown_key(kms):
    key = create_key(kms)
    line = assert_error(kms("get-key-policy", "--key-id", key, "--policy-name", "AWS_RAM"), 3, "NotFoundException")
    assert "AWS_RAM" in line
    assert_error(kms("get-key-policy", "--key-id", "alias/none"), 3, "NotFoundException")
    assert_error(kms("get-key-policy", "--key-id", key, "--policy-name", "not a name"), 2, "ValidationException")
    assert_error(kms("list-key-policies", "--key-id", key, "--marker", "m"), 2, "InvalidMarkerException")
    assert_error(kms("list-key-policies", "--key-id", key, "--limit", "0"), 2, "ValidationException")
