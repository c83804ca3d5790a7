"""aws-cli habits: file:// and fileb:// on every input that takes them, --cli-binary-format,
and --output text column for column as aws-cli's own formatter prints it."""

from __future__ import annotations

import base64
import io
import json

import importlib.util
from pathlib import Path

import pytest

from conftest import create_key


def _load_aws_text():
    """aws-cli's text formatter (awscli/text.py), loaded alone: importing the awscli package
    would point AWS_DATA_PATH at the older KMS model aws-cli bundles, and every later botocore
    session in the test run would read that one instead of botocore's."""
    package = importlib.util.find_spec("awscli")  # found, not imported
    spec = importlib.util.spec_from_file_location("awscli_text", Path(package.origin).parent / "text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.format_text


format_text = _load_aws_text()


def _ok(r):
    assert r.status == 0, r.stderr
    return r.json() if r.stdout.strip() else {}


def test_plaintext_file_url_is_the_files_bytes_never_the_string(kms, tmp_path):
    key = create_key(kms)
    (tmp_path / "x").write_bytes(b"\x00\xffcontents")
    for form in ("file://", "fileb://"):
        blob = _ok(kms("encrypt", "--key-id", key, "--plaintext", f"{form}{tmp_path / 'x'}"))["CiphertextBlob"]
        out = base64.b64decode(_ok(kms("decrypt", "--ciphertext-blob", blob))["Plaintext"])
        assert out == b"\x00\xffcontents"
    r = kms("encrypt", "--key-id", key, "--plaintext", f"file://{tmp_path / 'missing'}")
    assert r.status == 5 and r.stdout == b"" and "FileAccessException" in r.stderr


def test_blob_inputs_take_file_urls(kms, tmp_path):
    key = create_key(kms)
    blob = base64.b64decode(_ok(kms("encrypt", "--key-id", key, "--plaintext", "p"))["CiphertextBlob"])
    (tmp_path / "c.bin").write_bytes(blob)
    for form in ("file://", "fileb://"):
        assert _ok(kms("decrypt", "--ciphertext-blob", f"{form}{tmp_path / 'c.bin'}"))["Plaintext"] == "cA=="
        assert _ok(kms("re-encrypt", "--ciphertext-blob", f"{form}{tmp_path / 'c.bin'}", "--destination-key-id", key))
    sig_key = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    (tmp_path / "m").write_bytes(b"message")
    sig = _ok(kms("sign", "--key-id", sig_key, "--message", f"file://{tmp_path / 'm'}", "--signing-algorithm", "ECDSA_SHA_256"))["Signature"]
    (tmp_path / "s").write_bytes(base64.b64decode(sig))
    v = _ok(kms("verify", "--key-id", sig_key, "--message", "message", "--signing-algorithm", "ECDSA_SHA_256", "--signature", f"file://{tmp_path / 's'}"))
    assert v["SignatureValid"] is True
    mac_key = create_key(kms, "HMAC_256")
    mac = _ok(kms("generate-mac", "--key-id", mac_key, "--message", f"fileb://{tmp_path / 'm'}", "--mac-algorithm", "HMAC_SHA_256"))["Mac"]
    (tmp_path / "mac").write_bytes(base64.b64decode(mac))
    assert _ok(kms("verify-mac", "--key-id", mac_key, "--message", "message", "--mac-algorithm", "HMAC_SHA_256", "--mac", f"file://{tmp_path / 'mac'}"))["MacValid"]


def test_structures_and_text_take_file_urls(kms, tmp_path):
    (tmp_path / "tags.json").write_text(json.dumps([{"TagKey": "team", "TagValue": "ops"}]))
    (tmp_path / "desc.txt").write_text("from a file")
    (tmp_path / "ctx.json").write_text('{"purpose": "backup"}')
    key = _ok(kms("create-key", "--tags", f"file://{tmp_path / 'tags.json'}", "--description", f"file://{tmp_path / 'desc.txt'}"))["KeyMetadata"]["KeyId"]
    assert _ok(kms("list-resource-tags", "--key-id", key))["Tags"] == [{"TagKey": "team", "TagValue": "ops"}]
    assert _ok(kms("describe-key", "--key-id", key))["KeyMetadata"]["Description"] == "from a file"
    blob = _ok(kms("encrypt", "--key-id", key, "--plaintext", "p", "--encryption-context", f"file://{tmp_path / 'ctx.json'}"))["CiphertextBlob"]
    assert _ok(kms("decrypt", "--ciphertext-blob", blob, "--encryption-context", "purpose=backup"))["Plaintext"] == "cA=="
    (tmp_path / "new.txt").write_text("updated")
    _ok(kms("update-key-description", "--key-id", key, "--description", f"file://{tmp_path / 'new.txt'}"))
    assert _ok(kms("describe-key", "--key-id", key))["KeyMetadata"]["Description"] == "updated"


def test_cli_binary_format_base64(kms, tmp_path):
    key = create_key(kms)
    encoded = base64.b64encode(b"\x01\x02raw").decode()
    for place in ("before", "after"):
        args = ["encrypt", "--key-id", key, "--plaintext", encoded]
        args = ["--cli-binary-format", "base64", *args] if place == "before" else [*args, "--cli-binary-format", "base64"]
        blob = _ok(kms(*args))["CiphertextBlob"]
        assert base64.b64decode(_ok(kms("decrypt", "--ciphertext-blob", blob))["Plaintext"]) == b"\x01\x02raw"
    (tmp_path / "b64").write_text(encoded)
    blob = _ok(kms("--cli-binary-format", "base64", "encrypt", "--key-id", key, "--plaintext", f"file://{tmp_path / 'b64'}"))["CiphertextBlob"]
    assert base64.b64decode(_ok(kms("decrypt", "--ciphertext-blob", blob))["Plaintext"]) == b"\x01\x02raw"
    # The default is raw-in-base64-out: the literal is the text itself.
    blob = _ok(kms("encrypt", "--key-id", key, "--plaintext", encoded, "--cli-binary-format", "raw-in-base64-out"))["CiphertextBlob"]
    assert base64.b64decode(_ok(kms("decrypt", "--ciphertext-blob", blob))["Plaintext"]) == encoded.encode()
    r = kms("--cli-binary-format", "base64", "encrypt", "--key-id", key, "--plaintext", "not base64!")
    assert r.status == 2 and "ValidationException" in r.stderr


def _aws_text(value) -> str:
    stream = io.StringIO()
    format_text(value, stream)
    return stream.getvalue()


def test_text_output_is_aws_clis_column_for_column(kms):
    key = create_key(kms, "RSA_2048", "ENCRYPT_DECRYPT", "--tag", "b=2", "--tag", "a=1")
    sym = create_key(kms)
    _ok(kms("create-alias", "--alias-name", "alias/t", "--target-key-id", sym))
    _ok(kms("enable-key-rotation", "--key-id", sym))
    _ok(kms("rotate-key-on-demand", "--key-id", sym))
    cases = [
        ("list-keys",),
        ("list-keys", "--limit", "1"),
        ("describe-key", "--key-id", key),
        ("describe-key", "--key-id", sym),
        ("list-aliases",),
        ("list-resource-tags", "--key-id", key),
        ("list-key-rotations", "--key-id", sym, "--include-key-material", "ALL_KEY_MATERIAL"),
        ("get-key-rotation-status", "--key-id", sym),
        ("get-public-key", "--key-id", key),
        ("list-keys", "--query", "Keys[*].KeyId"),
    ]
    for args in cases:
        printed = _ok(kms(*args))
        if args == ("list-keys",) or args[:1] in (("list-aliases",), ("list-resource-tags",)) or "--include-key-material" in args:
            printed.pop("Truncated", None)  # aws-cli pages to the end and prints no Truncated
        text = kms(*args, "--output", "text")
        assert text.status == 0, text.stderr
        assert text.out == _aws_text(printed), args
    # What `cut -f3` scripts rely on: KEYS<TAB>arn<TAB>id.
    for line in kms("list-keys", "--output", "text").out.splitlines():
        label, arn, key_id = line.split("\t")
        assert label == "KEYS" and arn.endswith(":key/" + key_id)


@pytest.mark.parametrize(
    "value",
    [
        {"A": [1, 2], "B": {"C": None, "D": True}},
        {"L": [{"x": 1}, {"y": 2, "z": [3]}], "S": "s"},
        [["a", "b"], "c"],
        {"Empty": [], "N": 0},
    ],
)
def test_text_rendering_rules_match_awscli(value):
    from kmscli.cli.render import text_lines

    expected = _aws_text(value)
    assert "".join(line + "\n" for line in text_lines(value)) == expected


def test_list_options_take_several_values_as_aws_cli(kms):
    """aws-cli's list options take several values after one occurrence (nargs '+')."""
    r = kms("create-key", "--tags", "TagKey=a,TagValue=1", "TagKey=b,TagValue=2", "--description", "d")
    key = _ok(r)["KeyMetadata"]["KeyId"]
    assert _ok(r)["KeyMetadata"]["Description"] == "d"
    assert [t["TagKey"] for t in _ok(kms("list-resource-tags", "--key-id", key))["Tags"]] == ["a", "b"]
    _ok(kms("tag-resource", "--key-id", key, "--tags", "TagKey=c,TagValue=3", "TagKey=d,TagValue=4"))
    _ok(kms("untag-resource", "--key-id", key, "--tag-keys", "a", "b", "--tag-keys", "c"))
    assert [t["TagKey"] for t in _ok(kms("list-resource-tags", "--key-id", key))["Tags"]] == ["d"]
    _ok(kms("encrypt", "--key-id", key, "--grant-tokens", "t1", "t2", "--plaintext", "x"))
    assert _ok(kms("list-keys", "--resource-owners", "SELF", "OTHER_ACCOUNTS_VIA_RAM"))["Keys"]
    r = kms("untag-resource", "--key-id", key, "--tag-keys")
    assert r.status == 2 and r.stdout == b""


def test_ids_and_names_take_file_urls(kms, tmp_path):
    """aws-cli reads file://PATH for every string parameter, so `--key-id file://id.txt`
    works there; here too (verbatim, as aws-cli: a trailing newline is part of the value)."""
    key = _ok(kms("create-key"))["KeyMetadata"]["KeyId"]
    (tmp_path / "id").write_text(key)
    (tmp_path / "alias").write_text("alias/from-a-file")
    _ok(kms("create-alias", "--alias-name", f"file://{tmp_path / 'alias'}", "--target-key-id", f"file://{tmp_path / 'id'}"))
    assert _ok(kms("describe-key", "--key-id", f"file://{tmp_path / 'alias'}"))["KeyMetadata"]["KeyId"] == key
    _ok(kms("tag-resource", "--key-id", f"file://{tmp_path / 'id'}", "--tags", "TagKey=team,TagValue=ops"))
    (tmp_path / "tagkey").write_text("team")
    _ok(kms("untag-resource", "--key-id", key, "--tag-keys", f"file://{tmp_path / 'tagkey'}"))
    assert _ok(kms("list-resource-tags", "--key-id", key))["Tags"] == []
    (tmp_path / "id-newline").write_text(key + "\n")
    r = kms("describe-key", "--key-id", f"file://{tmp_path / 'id-newline'}")
    assert r.status != 0 and r.stderr.count("\n") <= 2, r.stderr
    r = kms("describe-key", "--key-id", f"file://{tmp_path / 'missing'}")
    assert r.status != 0 and "missing" in r.stderr and "Traceback" not in r.stderr
