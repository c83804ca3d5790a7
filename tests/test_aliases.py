"""create-alias, update-alias, delete-alias, list-aliases: AWS's names, limits and errors,
and aliases accepted wherever a key is named."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, create_key
from lifecycle_util import refused, silent_ok, snapshot


def aliases_of(kms, *args):
    return [a["AliasName"] for a in kms("list-aliases", *args).json()["Aliases"]]


def test_create_list_describe(kms, keyring_env):
    key = create_key(kms)
    silent_ok(kms("create-alias", "--alias-name", "alias/backups", "--target-key-id", key))
    listing = kms("list-aliases").json()
    assert listing["Truncated"] is False
    (alias,) = listing["Aliases"]
    assert alias["AliasName"] == "alias/backups"
    assert alias["AliasArn"] == "arn:aws:kms:local:000000000000:alias/backups"
    assert alias["TargetKeyId"] == key
    assert alias["CreationDate"] == alias["LastUpdatedDate"]
    assert kms("describe-key", "--key-id", "alias/backups", "--detail").json()["KeyMetadata"]["Aliases"] == ["alias/backups"]


def test_target_may_be_key_arn(kms):
    key = create_key(kms)
    arn = f"arn:aws:kms:local:000000000000:key/{key}"
    silent_ok(kms("create-alias", "--alias-name", "alias/by-arn", "--target-key-id", arn))
    assert kms("list-aliases").json()["Aliases"][0]["TargetKeyId"] == key


@pytest.mark.parametrize(
    "name",
    [
        "backups",  # no alias/ prefix
        "alias/",  # nothing after the prefix
        "alias/has space",
        "alias/caf\u00e9",  # letters are ASCII letters
        "alias/semi;colon",
        "alias/new\nline",
        "ALIAS/upper-prefix",
        "alias/" + "a" * 251,  # 257 characters
        "alias/aws/reserved",
        "alias/has:colon",  # AWS's model's pattern allows ':', AWS's rule for alias names does not
    ],
)
def test_invalid_alias_names(kms, keyring_env, name):
    key = create_key(kms)
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    # Without the alias/ prefix AWS answers ValidationException (tests/test_aws_recorded.py);
    # outside the model's length or pattern, its front end's ValidationException
    # (tests/test_moto_suite.py); within them, InvalidAliasNameException for what is left.
    expected = "InvalidAliasNameException" if name in ("alias/", "alias/aws/reserved") else "ValidationException"
    refused(kms("create-alias", "--alias-name", name, "--target-key-id", key), expected, 2)
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before


def test_name_length_bound_and_allowed_characters(kms):
    key = create_key(kms)
    longest = "alias/" + "a" * 250
    assert len(longest) == 256
    silent_ok(kms("create-alias", "--alias-name", longest, "--target-key-id", key))
    odd = "alias/Team_1/app-x_prod"
    silent_ok(kms("create-alias", "--alias-name", odd, "--target-key-id", key))
    assert sorted(aliases_of(kms)) == sorted([longest, odd])
    assert kms("describe-key", "--key-id", longest).json()["KeyMetadata"]["KeyId"] == key


def test_already_exists_not_found_and_alias_as_target(kms):
    key, other = create_key(kms), create_key(kms)
    silent_ok(kms("create-alias", "--alias-name", "alias/one", "--target-key-id", key))
    refused(kms("create-alias", "--alias-name", "alias/one", "--target-key-id", other), "AlreadyExistsException")
    refused(
        kms("create-alias", "--alias-name", "alias/two", "--target-key-id", "00000000-0000-4000-8000-000000000000"),
        "NotFoundException",
    )
    r = kms("create-alias", "--alias-name", "alias/two", "--target-key-id", "alias/one")
    refused(r, "ValidationException", 2)
    assert aliases_of(kms) == ["alias/one"]
    assert kms("list-aliases").json()["Aliases"][0]["TargetKeyId"] == key


def test_fifty_aliases_per_key(kms, keyring_env):
    key, other = create_key(kms), create_key(kms)
    for i in range(50):
        silent_ok(kms("create-alias", "--alias-name", f"alias/k{i:02d}", "--target-key-id", key))
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    r = kms("create-alias", "--alias-name", "alias/k50", "--target-key-id", key)
    refused(r, "LimitExceededException")
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before
    # update-alias cannot push a 51st alias onto the key either
    silent_ok(kms("create-alias", "--alias-name", "alias/elsewhere", "--target-key-id", other))
    refused(kms("update-alias", "--alias-name", "alias/elsewhere", "--target-key-id", key), "LimitExceededException")
    # the limit is per key: another key still takes aliases
    silent_ok(kms("create-alias", "--alias-name", "alias/k50", "--target-key-id", other))
    assert len(aliases_of(kms, "--key-id", key)) == 50
    # and freeing one makes room again
    silent_ok(kms("delete-alias", "--alias-name", "alias/k00"))
    silent_ok(kms("update-alias", "--alias-name", "alias/elsewhere", "--target-key-id", key))
    assert len(aliases_of(kms, "--key-id", key)) == 50


def test_update_alias_moves_between_keys(kms):
    a, b = create_key(kms), create_key(kms)
    silent_ok(kms("create-alias", "--alias-name", "alias/current", "--target-key-id", a))
    blob_a = kms("encrypt", "--key-id", "alias/current", "--plaintext", "for a").json()
    assert blob_a["KeyId"].endswith(a)
    silent_ok(kms("update-alias", "--alias-name", "alias/current", "--target-key-id", b))
    (alias,) = kms("list-aliases").json()["Aliases"]
    assert alias["TargetKeyId"] == b
    blob_b = kms("encrypt", "--key-id", "alias/current", "--plaintext", "for b").json()
    assert blob_b["KeyId"].endswith(b)
    # the old ciphertext still decrypts (it names key a) but not "under the alias" any more
    out = kms("decrypt", "--ciphertext-blob", blob_a["CiphertextBlob"]).json()
    assert base64.b64decode(out["Plaintext"]) == b"for a"
    refused(
        kms("decrypt", "--ciphertext-blob", blob_a["CiphertextBlob"], "--key-id", "alias/current"),
        "IncorrectKeyException",
    )
    assert kms("describe-key", "--key-id", a).json()["KeyMetadata"].get("Aliases") is None
    assert kms("describe-key", "--key-id", b, "--detail").json()["KeyMetadata"]["Aliases"] == ["alias/current"]


def test_update_alias_keeps_key_type_and_usage(kms):
    sym = create_key(kms)
    mac = create_key(kms, "HMAC_256")
    silent_ok(kms("create-alias", "--alias-name", "alias/x", "--target-key-id", sym))
    refused(kms("update-alias", "--alias-name", "alias/x", "--target-key-id", mac), "ValidationException", 2)
    refused(kms("update-alias", "--alias-name", "alias/missing", "--target-key-id", sym), "NotFoundException")
    assert kms("list-aliases").json()["Aliases"][0]["TargetKeyId"] == sym


def test_delete_alias(kms):
    key = create_key(kms)
    silent_ok(kms("create-alias", "--alias-name", "alias/gone", "--target-key-id", key))
    silent_ok(kms("delete-alias", "--alias-name", "alias/gone"))
    assert aliases_of(kms) == []
    refused(kms("describe-key", "--key-id", "alias/gone"), "NotFoundException")
    refused(kms("delete-alias", "--alias-name", "alias/gone"), "NotFoundException")
    # AWS's model lets DeleteAlias raise no InvalidAliasNameException: a name that cannot be
    # an alias is not found; one outside the model's pattern is a ValidationException.
    refused(kms("delete-alias", "--alias-name", "gone"), "NotFoundException", 3)
    refused(kms("delete-alias", "--alias-name", "alias/bad name"), "ValidationException", 2)
    # the key itself is untouched
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "Enabled"


def test_alias_to_key_pending_deletion_refused_as_aws(kms):
    key = create_key(kms)
    kms("schedule-key-deletion", "--key-id", key).json()
    refused(kms("create-alias", "--alias-name", "alias/late", "--target-key-id", key), "KMSInvalidStateException")
    # an existing alias of it can still be deleted
    other = create_key(kms)
    silent_ok(kms("create-alias", "--alias-name", "alias/kept", "--target-key-id", other))
    refused(kms("update-alias", "--alias-name", "alias/kept", "--target-key-id", key), "KMSInvalidStateException")


def test_list_aliases_pagination_and_filter(kms):
    a, b = create_key(kms), create_key(kms)
    for name, key in (("alias/a1", a), ("alias/a2", a), ("alias/b1", b)):
        silent_ok(kms("create-alias", "--alias-name", name, "--target-key-id", key))
    page = kms("list-aliases", "--limit", "2").json()
    assert [x["AliasName"] for x in page["Aliases"]] == ["alias/a1", "alias/a2"]
    assert page["Truncated"] is True and page["NextMarker"] == "alias/b1"
    rest = kms("list-aliases", "--limit", "2", "--marker", page["NextMarker"]).json()
    assert [x["AliasName"] for x in rest["Aliases"]] == ["alias/b1"]
    assert rest["Truncated"] is False and "NextMarker" not in rest
    assert aliases_of(kms, "--key-id", b) == ["alias/b1"]
    assert aliases_of(kms, "--key-id", "alias/a2") == ["alias/a1", "alias/a2"]
    refused(kms("list-aliases", "--key-id", "00000000-0000-4000-8000-000000000000"), "NotFoundException")
    refused(kms("list-aliases", "--limit", "0"), "ValidationException", 2)
    refused(kms("list-aliases", "--limit", "101"), "ValidationException", 2)
    assert len(kms("list-aliases", "--limit", "100").json()["Aliases"]) == 3
    refused(kms("list-aliases", "--marker", "not a marker"), "InvalidMarkerException", 2)


def test_reads_need_no_passphrase_writes_do(kms):
    key = create_key(kms)
    silent_ok(kms("create-alias", "--alias-name", "alias/r", "--target-key-id", key))
    locked = {"KMSCLI_PASSPHRASE": None}
    assert kms("list-aliases", env=locked).json()["Aliases"][0]["AliasName"] == "alias/r"
    assert kms("describe-key", "--key-id", "alias/r", env=locked).json()["KeyMetadata"]["KeyId"] == key
    refused(kms("create-alias", "--alias-name", "alias/s", "--target-key-id", key, env=locked), "KeyringLockedException", 4)


def test_alias_and_alias_arn_accepted_by_every_key_id(kms):
    sym = create_key(kms)
    mac = create_key(kms, "HMAC_256")
    ecc = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    for name, key in (("alias/sym", sym), ("alias/mac", mac), ("alias/ecc", ecc)):
        silent_ok(kms("create-alias", "--alias-name", name, "--target-key-id", key))
    arn = "arn:aws:kms:local:000000000000:alias/sym"
    blob = kms("encrypt", "--key-id", arn, "--plaintext", "x").json()["CiphertextBlob"]
    assert kms("decrypt", "--ciphertext-blob", blob, "--key-id", "alias/sym").json()["KeyId"].endswith(sym)
    assert kms("generate-mac", "--key-id", "alias/mac", "--message", "m", "--mac-algorithm", "HMAC_SHA_256").status == 0
    sig = kms("sign", "--key-id", "alias/ecc", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256").json()
    assert sig["KeyId"].endswith(ecc)
    assert kms("get-public-key", "--key-id", "alias/ecc").json()["KeyId"].endswith(ecc)
    # and every lifecycle command
    silent_ok(kms("tag-resource", "--key-id", "alias/sym", "--tag", "k=v"))
    assert kms("list-resource-tags", "--key-id", arn).json()["Tags"] == [{"TagKey": "k", "TagValue": "v"}]
    silent_ok(kms("update-key-description", "--key-id", "alias/sym", "--description", "d"))
    silent_ok(kms("enable-key-rotation", "--key-id", arn))
    assert kms("get-key-rotation-status", "--key-id", "alias/sym").json()["KeyRotationEnabled"] is True
    assert kms("rotate-key-on-demand", "--key-id", "alias/sym").json()["KeyId"].endswith(sym)
    assert len(kms("list-key-rotations", "--key-id", "alias/sym").json()["Rotations"]) == 1
    silent_ok(kms("disable-key", "--key-id", "alias/sym"))
    silent_ok(kms("enable-key", "--key-id", arn))
    assert kms("schedule-key-deletion", "--key-id", "alias/sym").json()["KeyId"].endswith(sym)
    assert kms("cancel-key-deletion", "--key-id", arn).json()["KeyId"].endswith(sym)
    assert kms("describe-key", "--key-id", arn).json()["KeyMetadata"]["Description"] == "d"


def _spawn(env, *args):
    full = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    return subprocess.Popen(
        [sys.executable, "-m", "kmscli", *args], env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_concurrent_writers_unique_names_and_no_lost_aliases(kms, keyring_env):
    """Aliases are read, checked and written under the writer lock: of six processes creating
    one name exactly one wins, and six creating different names all keep theirs."""
    key = create_key(kms)
    env = dict(keyring_env, KMSCLI_LOCK_TIMEOUT="60")
    same = [_spawn(env, "create-alias", "--alias-name", "alias/race", "--target-key-id", key) for _ in range(6)]
    different = [_spawn(env, "create-alias", "--alias-name", f"alias/p{i}", "--target-key-id", key) for i in range(6)]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in same + different]
    statuses = [s for s, _ in results[:6]]
    assert statuses.count(0) == 1, results
    assert all(
        s == 3 and e.startswith("kmscli: error: AlreadyExistsException") for s, e in results[:6] if s != 0
    ), results
    assert all(s == 0 for s, _ in results[6:]), results
    assert aliases_of(kms) == ["alias/p0", "alias/p1", "alias/p2", "alias/p3", "alias/p4", "alias/p5", "alias/race"]


LIFECYCLE_COMMANDS = (
    "create-alias", "update-alias", "delete-alias", "list-aliases",
    "enable-key", "disable-key", "schedule-key-deletion", "cancel-key-deletion",
    "update-key-description", "tag-resource", "untag-resource", "list-resource-tags",
    "enable-key-rotation", "disable-key-rotation", "get-key-rotation-status",
    "rotate-key-on-demand", "list-key-rotations",
)


@pytest.mark.parametrize("command", LIFECYCLE_COMMANDS)
def test_help_ends_with_an_example_and_docs_cover_it(kms, command):
    r = kms(command, "--help")
    assert r.status == 0
    body = r.out.split("Options:")[0]
    assert "Example:" in body and f"kmscli {command}" in body.split("Example:")[1]
    assert f"kmscli {command}" in (ROOT / "docs" / "key-lifecycle.md").read_text() or f"`{command}" in (
        ROOT / "docs" / "key-lifecycle.md"
    ).read_text()
