"""update-key-description, tag-resource, untag-resource, list-resource-tags."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import create_key
from lifecycle_util import refused, silent_ok, snapshot


def tags_of(kms, key, *args):
    return {t["TagKey"]: t["TagValue"] for t in kms("list-resource-tags", "--key-id", key, *args).json()["Tags"]}


def test_tag_untag_list(kms):
    key = create_key(kms, "SYMMETRIC_DEFAULT", None, "--tag", "created=yes")
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "team=ops", "--tags", "TagKey=env,TagValue=prod"))
    result = kms("list-resource-tags", "--key-id", key).json()
    assert result == {
        "Tags": [
            {"TagKey": "created", "TagValue": "yes"},
            {"TagKey": "env", "TagValue": "prod"},
            {"TagKey": "team", "TagValue": "ops"},
        ],
        "Truncated": False,
    }
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "env=staging", "--tag", "empty="))
    assert tags_of(kms, key) == {"created": "yes", "env": "staging", "team": "ops", "empty": ""}
    silent_ok(kms("untag-resource", "--key-id", key, "--tag-keys", "team", "--tag-keys", "absent"))
    assert tags_of(kms, key) == {"created": "yes", "env": "staging", "empty": ""}
    silent_ok(kms("untag-resource", "--key-id", key, "--tag-keys", "created", "--tag-keys", "env", "--tag-keys", "empty"))
    assert kms("list-resource-tags", "--key-id", key).json() == {"Tags": [], "Truncated": False}


def test_fifty_tags_at_most_counting_those_the_key_has(kms, keyring_env):
    key = create_key(kms)
    first = [f"--tag=k{i:02d}=v" for i in range(49)]
    silent_ok(kms("tag-resource", "--key-id", key, *first))
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "k49=v"))  # the 50th
    assert len(tags_of(kms, key)) == 50
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "k00=changed"))  # replacing is not adding
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    refused(kms("tag-resource", "--key-id", key, "--tag", "k50=v"), "LimitExceededException")
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before
    assert tags_of(kms, key)["k00"] == "changed"


def test_fifty_one_tags_in_one_call(kms):
    key = create_key(kms)
    # AWS's answer to 51 tags in one request (tests/test_aws_recorded.py)
    refused(kms("tag-resource", "--key-id", key, *[f"--tag=k{i}=v" for i in range(51)]), "TagException", 2)
    assert tags_of(kms, key) == {}


@pytest.mark.parametrize(
    "tag, error",
    [
        ("k" * 128 + "=v", None),
        ("k" * 129 + "=v", "ValidationException"),
        ("key=" + "v" * 256, None),
        ("key=" + "v" * 257, "ValidationException"),
        ("=value", "ValidationException"),
        ("aws:reserved=v", "TagException"),
        ("AWS:mixed-case-is-reserved-too=v", "TagException"),  # as AWS answers (tests/test_aws_recorded.py)
    ],
)
def test_tag_limits(kms, tag, error):
    ok = error is None
    key = create_key(kms)
    r = kms("tag-resource", "--key-id", key, "--tag", tag)
    if ok:
        silent_ok(r)
        k, v = tag.split("=", 1)
        assert tags_of(kms, key) == {k: v}
    else:
        refused(r, error, 2)
        assert tags_of(kms, key) == {}


def test_tag_input_errors(kms):
    key = create_key(kms)
    refused(kms("tag-resource", "--key-id", key), "ValidationException", 2)
    refused(kms("tag-resource", "--key-id", key, "--tag", "novalue"), "ValidationException", 2)
    refused(kms("tag-resource", "--key-id", key, "--tags", "Key=a,Value=b"), "ValidationException", 2)
    refused(kms("tag-resource", "--key-id", key, "--tag", "a=1", "--tag", "a=2"), "ValidationException", 2)
    refused(kms("untag-resource", "--key-id", key, "--tag-keys", "k" * 129), "ValidationException", 2)
    refused(kms("untag-resource", "--key-id", key), "ValidationException", 2)  # --tag-keys is required


def test_list_resource_tags_pagination(kms):
    key = create_key(kms)
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "a=1", "--tag", "b=2", "--tag", "c=3"))
    page = kms("list-resource-tags", "--key-id", key, "--limit", "2").json()
    assert [t["TagKey"] for t in page["Tags"]] == ["a", "b"]
    # Opaque, and within the model's marker pattern [\u0020-\u00FF]*, whatever the tag key.
    assert page["Truncated"] is True and page["NextMarker"] != "c"
    assert all(" " <= ch <= "\u00ff" for ch in page["NextMarker"])
    rest = kms("list-resource-tags", "--key-id", key, "--limit", "2", "--marker", page["NextMarker"]).json()
    assert rest == {"Tags": [{"TagKey": "c", "TagValue": "3"}], "Truncated": False}
    # A raw tag key, or anything else list-resource-tags did not return, is no marker.
    for marker in ("c", page["NextMarker"] + "!", "tags1.%%%"):
        refused(kms("list-resource-tags", "--key-id", key, "--marker", marker), "InvalidMarkerException", 2)
    # Any tag key has a marker inside the model's pattern, and it pages on from there.
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "\u00e9t\u00e9=4", "--tag", "\u65e5=5"))
    page = kms("list-resource-tags", "--key-id", key, "--limit", "4").json()
    assert all(" " <= ch <= "\u00ff" for ch in page["NextMarker"])
    rest = kms("list-resource-tags", "--key-id", key, "--marker", page["NextMarker"]).json()
    assert [t["TagKey"] for t in rest["Tags"]] == ["\u65e5"]
    refused(kms("list-resource-tags", "--key-id", key, "--limit", "51"), "ValidationException", 2)
    refused(kms("list-resource-tags", "--key-id", key, "--limit", "0"), "ValidationException", 2)


def test_tag_reads_need_no_passphrase_writes_do(kms):
    key = create_key(kms)
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "a=1"))
    locked = {"KMSCLI_PASSPHRASE": None}
    assert kms("list-resource-tags", "--key-id", key, env=locked).json()["Tags"] == [{"TagKey": "a", "TagValue": "1"}]
    refused(kms("tag-resource", "--key-id", key, "--tag", "b=2", env=locked), "KeyringLockedException", 4)
    refused(kms("untag-resource", "--key-id", key, "--tag-keys", "a", env=locked), "KeyringLockedException", 4)
    assert tags_of(kms, key) == {"a": "1"}


def test_update_key_description(kms, keyring_env):
    key = create_key(kms, "SYMMETRIC_DEFAULT", None, "--description", "old")
    silent_ok(kms("update-key-description", "--key-id", key, "--description", "d" * 8192))
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["Description"] == "d" * 8192
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    refused(kms("update-key-description", "--key-id", key, "--description", "d" * 8193), "ValidationException", 2)
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before
    silent_ok(kms("update-key-description", "--key-id", key, "--description", ""))
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["Description"] == ""
    assert kms("list-keys", "--detail").json()["Keys"][0]["Description"] == ""


def test_edited_metadata_is_still_integrity_protected(kms, keyring_env):
    """Tags and description are written under the integrity HMAC: a hand edit is refused."""
    key = create_key(kms)
    silent_ok(kms("tag-resource", "--key-id", key, "--tag", "owner=alice"))
    path = Path(keyring_env["KMSCLI_KEYRING"]) / "keys" / f"{key}.toml"
    path.write_text(path.read_text().replace('owner = "alice"', 'owner = "mallory"'))
    refused(kms("encrypt", "--key-id", key, "--plaintext", "x"), "KeyringDamagedException", 5)
