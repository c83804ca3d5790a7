"""create-key, describe-key and list-keys: AWS's fields, limits and pagination, in every output."""

from __future__ import annotations

import pytest

from conftest import create_key
from seed_keys import assert_error, ok_json


def test_describe_key_has_awss_fields(kms):
    meta = ok_json(kms("create-key", "--description", "backups", "--tag", "team=ops"))["KeyMetadata"]
    described = ok_json(kms("describe-key", "--key-id", meta["KeyId"]))["KeyMetadata"]
    for field in ("AWSAccountId", "KeyId", "Arn", "CreationDate", "Enabled", "Description", "KeyUsage",
                  "KeyState", "Origin", "KeyManager", "KeySpec", "CustomerMasterKeySpec", "EncryptionAlgorithms"):
        assert field in described, field
    assert described["Description"] == "backups"
    assert described["Enabled"] is True and described["KeyState"] == "Enabled"
    assert described["KeyManager"] == "CUSTOMER" and described["Origin"] == "AWS_KMS"


@pytest.mark.parametrize("length,status", [(8192, 0), (8193, 2)])
def test_description_limit(kms, length, status):
    r = kms("create-key", "--description", "d" * length)
    assert r.status == status, r.stderr
    if status:
        assert_error(r, 2, "ValidationException")


@pytest.mark.parametrize(
    "tag, error",
    [
        ("aws:owner=x", "TagException"),
        ("=value", "ValidationException"),
        (f"{'k' * 129}=v", "ValidationException"),
        (f"k={'v' * 257}", "ValidationException"),
    ],
)
def test_invalid_tags_are_refused(kms, tag, error):
    assert_error(kms("create-key", "--tag", tag), 2, error)
    assert ok_json(kms("list-keys"))["Keys"] == []


def test_list_keys_pages_with_limit_and_marker(kms):
    ids = sorted(create_key(kms) for _ in range(3))
    first = ok_json(kms("list-keys", "--limit", "2"))
    assert [k["KeyId"] for k in first["Keys"]] == ids[:2]
    assert first["Truncated"] is True
    second = ok_json(kms("list-keys", "--limit", "2", "--marker", first["NextMarker"]))
    assert [k["KeyId"] for k in second["Keys"]] == ids[2:]
    assert second["Truncated"] is False and "NextMarker" not in second
    for limit in ("0", "1001"):
        assert_error(kms("list-keys", "--limit", limit), 2, "ValidationException")
    assert_error(kms("list-keys", "--marker", "bogus"), 2, "InvalidMarkerException")


def test_text_and_table_outputs(kms):
    key = create_key(kms, "HMAC_256")
    text = kms("--output", "text", "describe-key", "--key-id", key)
    assert text.status == 0 and key in text.out and "MACALGORITHMS\tHMAC_SHA_256" in text.out
    table = kms("list-keys", "--output", "table")
    assert table.status == 0 and "HMAC_256" in table.out and "KeyId" in table.out
    assert kms("describe-key", "--key-id", key, "--query", "KeyMetadata.KeySpec").out.strip() == '"HMAC_256"'
