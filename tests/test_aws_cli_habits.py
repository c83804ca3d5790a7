"""What a shell script written for `aws kms` does, carried over to kmscli unchanged: --query
projections and the text rendering of List results."""

from __future__ import annotations

from conftest import create_key


def test_query_projection_lists_a_field_of_every_item(kms):
    ids = sorted(create_key(kms) for _ in range(3))
    for query in ("Keys[*].KeyId", "Keys[].KeyId"):
        r = kms("list-keys", "--query", query)
        assert r.status == 0, r.stderr
        assert r.json() == ids
        # aws-cli prints a projected list of scalars on one tab-separated line.
        r = kms("list-keys", "--query", query, "--output", "text")
        assert r.status == 0 and r.stderr == ""
        assert r.out == "\t".join(ids) + "\n"


def test_query_projection_leaves_out_items_without_the_field(kms):
    first, second = create_key(kms), create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/only", "--target-key-id", second).status == 0
    r = kms("list-keys", "--detail", "--query", "Keys[*].Aliases[0]")
    assert r.status == 0, r.stderr
    assert r.json() == ["alias/only"]


def test_a_malformed_projection_is_a_usage_error(kms):
    r = kms("list-keys", "--query", "Keys[*")
    assert r.status == 2 and r.stdout == b""
    assert "ValidationException" in r.stderr and "Keys[*" in r.stderr


def test_text_of_a_complete_listing_has_no_false_line(kms):
    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/x", "--target-key-id", key).status == 0
    for command, label in (("list-keys", "KEYS\t"), ("list-aliases", "ALIASES\t")):
        r = kms(command, "--output", "text")
        assert r.status == 0, r.stderr
        lines = r.out.splitlines()
        assert lines and all(line.startswith(label) or line.startswith("ALIASES\t") for line in lines), lines
    r = kms("list-resource-tags", "--key-id", key, "--output", "text")
    assert r.status == 0 and r.out == ""


def test_text_of_a_truncated_listing_still_says_so(kms):
    create_key(kms), create_key(kms)
    r = kms("list-keys", "--limit", "1", "--output", "text")
    assert r.status == 0, r.stderr
    first = r.out.splitlines()[0].split("\t")
    assert first[-1] == "True"  # NextMarker, Truncated: the scalars, sorted as aws-cli sorts them
    assert first[0] == kms("list-keys", "--limit", "1").json()["NextMarker"]


def test_tags_in_aws_clis_json_form(kms):
    r = kms("create-key", "--tags", '[{"TagKey": "team", "TagValue": "ops"}, {"TagKey": "tier", "TagValue": ""}]')
    assert r.status == 0, r.stderr
    key = r.json()["KeyMetadata"]["KeyId"]
    tags = kms("list-resource-tags", "--key-id", key).json()["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == [("team", "ops"), ("tier", "")]
    r = kms("tag-resource", "--key-id", key, "--tags", '[{"TagKey": "env", "TagValue": "prod"}]')
    assert r.status == 0, r.stderr
    assert {t["TagKey"] for t in kms("list-resource-tags", "--key-id", key).json()["Tags"]} == {"team", "tier", "env"}


def test_malformed_json_tags_are_a_usage_error_and_create_nothing(kms):
    for bad in ('[{"TagKey": "a"}]', '[{"TagKey": "a", "TagValue": 1}]', '[{"TagKey": "a", "TagValue": "b"}'):
        r = kms("create-key", "--tags", bad)
        assert r.status == 2 and r.stdout == b"" and "ValidationException" in r.stderr, bad
    assert kms("list-keys").json()["Keys"] == []


def test_a_mistyped_name_is_answered_with_the_one_probably_meant(kms):
    for typed, meant in (("rsa_2048", "RSA_2048"), ("RSA2048", "RSA_2048"), ("ECC_NIST_P265", "ECC_NIST_P256")):
        r = kms("create-key", "--key-spec", typed)
        assert r.status == 2 and f"Did you mean {meant}?" in r.stderr.splitlines()[0]
    r = kms("create-key", "--key-spec", "FOO")
    assert r.status == 2 and "Did you mean" not in r.stderr
    assert kms("list-keys").json()["Keys"] == []


def test_tags_shorthand_needs_both_members_as_aws(kms):
    r = kms("create-key", "--tags", "TagKey=team")
    assert r.status == 2 and "TagKey=K,TagValue=V" in r.stderr
    key = kms("create-key", "--tags", "TagKey=team,TagValue=").json()["KeyMetadata"]["KeyId"]
    assert kms("list-resource-tags", "--key-id", key).json()["Tags"] == [{"TagKey": "team", "TagValue": ""}]
