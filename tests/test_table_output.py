"""--output table: the columns a person wants for each list, whole ids, no noise."""

from conftest import create_key


def test_list_keys_table_shows_id_aliases_spec_usage_state_created_description(kms):
    key = create_key(kms, "ECC_NIST_P256", None, "--description", "release signing")
    assert kms("create-alias", "--alias-name", "alias/releases", "--target-key-id", key).status == 0
    r = kms("list-keys", "--output", "table")
    assert r.status == 0, r.stderr
    header = next(line for line in r.out.splitlines() if "KeyId" in line)
    columns = [c.strip() for c in header.strip("┃│ ").split("┃")]
    assert columns == ["KeyId", "Aliases", "KeySpec", "KeyUsage", "KeyState", "CreationDate", "Description"]
    row = next(line for line in r.out.splitlines() if key in line)  # the whole id, on one line
    for value in ("alias/releases", "ECC_NIST_P256", "SIGN_VERIFY", "Enabled", "release signing"):
        assert value in row
    assert "Truncated" not in r.out  # False says nothing worth a table


def test_a_truncated_page_shows_the_next_marker(kms):
    create_key(kms)
    create_key(kms)
    r = kms("list-keys", "--limit", "1", "--output", "table")
    marker = kms("list-keys", "--limit", "1").json()["NextMarker"]
    assert r.status == 0 and "NextMarker" in r.out and marker in r.out


def test_an_empty_known_list_still_shows_its_header(kms):
    key = create_key(kms)
    r = kms("list-resource-tags", "--key-id", key, "--output", "table")
    assert r.status == 0 and "TagKey" in r.out and "TagValue" in r.out


def test_list_keys_detail_carries_each_keys_aliases(kms):
    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/b", "--target-key-id", key).status == 0
    assert kms("create-alias", "--alias-name", "alias/a", "--target-key-id", key).status == 0
    # AWS's ListKeys entry is KeyId and KeyArn only; --detail (kmscli's own) adds the rest.
    assert set(kms("list-keys").json()["Keys"][0]) == {"KeyId", "KeyArn"}
    entry = kms("list-keys", "--detail").json()["Keys"][0]
    assert entry["Aliases"] == ["alias/a", "alias/b"] and entry["KeyId"] == key
    assert "Aliases" not in kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert kms("describe-key", "--key-id", key, "--detail").json()["KeyMetadata"]["Aliases"] == ["alias/a", "alias/b"]
