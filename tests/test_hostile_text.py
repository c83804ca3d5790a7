"""Hostile text stays text (issue 11): control characters from untrusted places never reach
the terminal raw, in text or table output or in error lines. JSON escapes them itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import create_key, run_in_process
from lifecycle_util import alias_file

# An OSC title change, a CSI screen clear, an 8-bit CSI (C1), a bidi override, a BEL.
HOSTILE = "ok\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\x07"
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e")


def clean(text: str) -> bool:
    return not any(c in text for c in RAW_CONTROLS)


def described(kms, key):
    assert kms("update-key-description", "--key-id", key, "--description", HOSTILE).status == 0


@pytest.mark.parametrize("output", ["text", "table"])
def test_a_description_and_tag_value_are_escaped(kms, output):
    key = create_key(kms)
    described(kms, key)
    assert kms("tag-resource", "--key-id", key, "--tags", f"TagKey=t,TagValue={HOSTILE}").status == 0
    for args in (["describe-key", "--key-id", key], ["list-keys"], ["list-resource-tags", "--key-id", key]):
        r = kms(*args, "--output", output)
        assert r.status == 0, r.stderr
        assert clean(r.out), (args, r.out)
    r = kms("describe-key", "--key-id", key, "--output", "text")
    assert "\\x1b]0;pwned\\x07" in r.out and "\\u202e" in r.out  # shown, as escapes
    # JSON carries the exact value (json escapes every control character).
    r = kms("describe-key", "--key-id", key)
    assert clean(r.out) and json.loads(r.out)["KeyMetadata"]["Description"] == HOSTILE


def test_a_table_cell_is_not_rich_markup(kms):
    key = create_key(kms)
    assert kms("update-key-description", "--key-id", key, "--description", "[bold red]x[/]").status == 0
    r = kms("describe-key", "--key-id", key, "--output", "table")
    assert "[bold red]x[/]" in r.out


def test_a_hand_edited_alias_name_is_escaped_when_listed(kms, keyring_env):
    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/plain", "--target-key-id", key).status == 0
    keyring = Path(keyring_env["KMSCLI_KEYRING"])
    path = alias_file(keyring, "alias/plain")
    path.write_text(path.read_text().replace("alias/plain", "alias/\\u001b]0;pwned\\u0007"))
    shutil.rmtree(keyring / "index" / "aliases")  # listed from the buckets themselves, then
    for output in ("text", "table"):
        r = kms("list-aliases", "--output", output, env={"KMSCLI_PASSPHRASE": None})
        assert clean(r.out + r.stderr)


def test_file_names_in_error_lines_are_escaped(kms, tmp_path):
    key = create_key(kms)
    r = kms("encrypt-file", "--key-id", key, "--in", tmp_path / HOSTILE, "--out", tmp_path / "o")
    assert r.status == 5
    assert clean(r.stderr) and "\\x1b]0;pwned" in r.stderr


def test_text_before_begin_in_a_public_key_file_is_escaped_and_its_key_id_not_reported(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    pem = tmp_path / "k.pem"
    assert kms("get-public-key", "--key-id", key, "--out", pem).status == 0
    text = pem.read_text().replace("KeyId: ", f"KeyId: {HOSTILE}", 1)
    pem.write_text(text)
    sig = tmp_path / "sig"
    assert kms("sign", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256", "--out", sig).status == 0
    args = ["verify", "--public-key", pem, "--message", "m", "--signature-file", sig]
    for output in ("text", "table"):
        r = run_in_process([*args, "--output", output], env={"KMSCLI_KEYRING": "/nonexistent/k"})
        assert r.status == 0, r.stderr
        assert clean(r.out)
    result = run_in_process(args, env={"KMSCLI_KEYRING": "/nonexistent/k"}).json()
    assert "KeyId" not in result and "ok" not in str(result)  # the planted claim is not presented
    # A planted configuration that is refused says so in an escaped error line.
    pem.write_text(text.replace("KeyUsage: SIGN_VERIFY", f"KeyUsage: {HOSTILE}"))
    r = run_in_process(args, env={"KMSCLI_KEYRING": "/nonexistent/k"})
    assert r.status == 3 and clean(r.stderr)
