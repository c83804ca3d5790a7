"""SYMMETRIC_DEFAULT encryption: round trips, the encryption context as AAD, the blob's
self-description, and one opaque error for every damaged blob or wrong context."""

from __future__ import annotations

import uuid

import pytest

from seed_keys import assert_error, b64, ok_json, seed, unb64  # noqa: F401

from kmscli.service import ciphertext

SYM = ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")


@pytest.fixture(scope="module")
def key(seed):
    return seed.key(*SYM)


def encrypt(seed, key, plaintext: bytes, *context) -> bytes:
    args = ["encrypt", "--key-id", key, "--in", "-"]
    for pair in context:
        args += ["--encryption-context", pair]
    return unb64(ok_json(seed.run(*args, input=plaintext))["CiphertextBlob"])


def decrypt(seed, blob: bytes, *context, key_id=None):
    args = ["decrypt", "--ciphertext-blob", b64(blob)]
    for pair in context:
        args += ["--encryption-context", pair]
    if key_id:
        args += ["--key-id", key_id]
    return seed.run(*args)


@pytest.mark.parametrize("size", [1, 2, 15, 16, 17, 4095, 4096])
def test_round_trip_at_every_edge_size(seed, key, size):
    plaintext = bytes(range(256)) * 16
    plaintext = plaintext[:size]
    blob = encrypt(seed, key, plaintext)
    assert len(blob) == ciphertext.OVERHEAD + size
    result = ok_json(decrypt(seed, blob))
    assert unb64(result["Plaintext"]) == plaintext
    assert result["KeyId"] == f"arn:aws:kms:local:000000000000:key/{key}"
    assert result["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


@pytest.mark.parametrize("size", [0, 4097])
def test_plaintext_outside_1_to_4096_bytes_is_refused(seed, key, size):
    r = seed.run("encrypt", "--key-id", key, "--in", "-", input=b"x" * size)
    assert_error(r, 2, "ValidationException")


def test_two_encryptions_of_the_same_plaintext_differ(seed, key):
    assert encrypt(seed, key, b"same") != encrypt(seed, key, b"same")


def test_blob_is_versioned_and_names_its_key_and_material(seed, key):
    blob = encrypt(seed, key, b"hello")
    meta = ok_json(seed.run("describe-key", "--key-id", key))["KeyMetadata"]
    assert blob[0] == 1
    assert blob[1:17] == uuid.UUID(key).bytes
    assert blob[17:49] == bytes.fromhex(meta["CurrentKeyMaterialId"])
    assert len(blob) == 1 + 16 + 32 + 12 + 5 + 16
    # decrypt says which material opened it, as AWS's Decrypt (KeyMaterialId)
    assert ok_json(decrypt(seed, blob))["KeyMaterialId"] == meta["CurrentKeyMaterialId"]


def test_decrypt_needs_no_key_id_but_accepts_the_right_one_in_every_form(seed, key):
    blob = encrypt(seed, key, b"hello")
    for key_id in (key, f"arn:aws:kms:local:000000000000:key/{key}"):
        assert unb64(ok_json(decrypt(seed, blob, key_id=key_id))["Plaintext"]) == b"hello"


def test_a_wrong_key_id_is_incorrect_key(seed, key, tmp_path):
    other = ok_json(seed.run("create-key", "--description", "another symmetric key"))["KeyMetadata"]["KeyId"]
    blob = encrypt(seed, key, b"hello")
    r = decrypt(seed, blob, key_id=other)
    assert_error(r, 3, "IncorrectKeyException")
    assert f"the ciphertext was not encrypted under key {other}" in r.stderr
    assert "hint: omit --key-id: a symmetric ciphertext names its own key" in r.stderr


def test_a_key_id_of_another_usage_is_refused(seed, key):
    blob = encrypt(seed, key, b"hello")
    hmac_key = seed.key("HMAC_256", "GENERATE_VERIFY_MAC")
    # As AWS answers (tests/test_aws_recorded.py): not a key that can decrypt it.
    assert_error(decrypt(seed, blob, key_id=hmac_key), 3, "IncorrectKeyException")


# --- the encryption context ------------------------------------------------------------------


def test_context_round_trip_in_both_spellings(seed, key):
    blob = encrypt(seed, key, b"hello", "purpose=backup", "team=ops")
    assert ok_json(decrypt(seed, blob, '{"team": "ops", "purpose": "backup"}'))
    assert ok_json(decrypt(seed, blob, "team=ops", "purpose=backup"))


def test_context_value_may_hold_equals_signs(seed, key):
    blob = encrypt(seed, key, b"hello", "expr=a=b")
    assert ok_json(decrypt(seed, blob, '{"expr": "a=b"}'))
    assert_error(decrypt(seed, blob, '{"expr=a": "b"}'), 3, "InvalidCiphertextException")


def test_aws_cli_shorthand_k_v_comma_k2_v2_is_two_pairs(seed, key):
    # `aws kms encrypt --encryption-context k=v,k2=v2` binds {"k": "v", "k2": "v2"}; a script
    # moving over must get the same context, not the single value "v,k2=v2".
    blob = encrypt(seed, key, b"hello", "purpose=backup,team=ops")
    assert ok_json(decrypt(seed, blob, '{"purpose": "backup", "team": "ops"}'))
    assert ok_json(decrypt(seed, blob, "team=ops", "purpose=backup"))
    assert_error(decrypt(seed, blob, '{"purpose": "backup,team=ops"}'), 3, "InvalidCiphertextException")


def test_a_comma_without_a_further_pair_stays_in_the_value(seed, key):
    blob = encrypt(seed, key, b"hello", "list=a,b")
    assert ok_json(decrypt(seed, blob, '{"list": "a,b"}'))


@pytest.mark.parametrize(
    "encrypted,given",
    [
        (["purpose=backup"], []),
        ([], ["purpose=backup"]),
        (["purpose=backup"], ["purpose=Backup"]),
        (["purpose=backup"], ["Purpose=backup"]),
        (["purpose=backup"], ["purpose=backup", "extra=1"]),
        (["purpose=backup", "extra=1"], ["purpose=backup"]),
        (['{"a": "bc"}'], ['{"ab": "c"}']),
        (['{"ab": "c"}'], ['{"a": "bc"}']),
        (['{"a": "b", "c": "d"}'], ['{"a": "bc", "": "d"}']),
        (['{"a": "b", "c": "d"}'], ['{"a": "b\\u0000c", "x": "d"}']),
        (['{"k": ""}'], []),
    ],
)
def test_a_wrong_context_is_invalid_ciphertext(seed, key, encrypted, given):
    blob = encrypt(seed, key, b"hello", *encrypted)
    r = decrypt(seed, blob, *given)
    # An empty key is refused before decryption; every other mismatch is the opaque error.
    if any('"": ' in g for g in given):
        assert_error(r, 2, "ValidationException")
    else:
        assert_error(r, 3, "InvalidCiphertextException")


def test_context_encoding_is_unambiguous():
    enc = ciphertext.encode_context
    assert enc({"a": "bc"}) != enc({"ab": "c"})
    assert enc({"a": "b", "c": "d"}) != enc({"a": "b\x00\x00\x00\x01c", "": "d"})
    assert enc({"b": "1", "a": "2"}) == enc({"a": "2", "b": "1"})
    assert enc({}) == enc(None) == b"\x00\x00\x00\x00"
    # The pinned layout (docs/ciphertext-format.md): count, then length-prefixed UTF-8.
    assert enc({"ab": "c", "é": ""}) == (
        b"\x00\x00\x00\x02" b"\x00\x00\x00\x02ab" b"\x00\x00\x00\x01c" b"\x00\x00\x00\x02\xc3\xa9" b"\x00\x00\x00\x00"
    )


def test_context_is_refused_for_rsa_keys(seed):
    rsa = seed.key("RSA_2048", "ENCRYPT_DECRYPT")
    r = seed.run("encrypt", "--key-id", rsa, "--plaintext", "x", "--encryption-algorithm", "RSAES_OAEP_SHA_256",
                 "--encryption-context", "a=b")
    assert_error(r, 2, "ValidationException")


@pytest.mark.parametrize("pair", ["novalue", '{"a": 1}', "[1, 2]", '{"a": "b"', "=value"])
def test_malformed_context_is_a_usage_error(seed, key, pair):
    r = seed.run("encrypt", "--key-id", key, "--plaintext", "x", "--encryption-context", pair)
    assert_error(r, 2, "ValidationException")


def test_a_context_key_given_twice_is_refused(seed, key):
    r = seed.run("encrypt", "--key-id", key, "--plaintext", "x", "--encryption-context", "a=1", "--encryption-context", "a=2")
    assert_error(r, 2, "ValidationException")


# --- damaged blobs: every byte, one opaque error ------------------------------------------------


def test_every_flipped_byte_of_a_small_blob_is_refused_with_one_opaque_error(seed, key):
    blob = encrypt(seed, key, b"hi", "purpose=test")
    messages = set()
    for position in range(len(blob)):
        for mask in (0x01, 0x80):
            damaged = bytearray(blob)
            damaged[position] ^= mask
            r = decrypt(seed, bytes(damaged), "purpose=test")
            messages.add(assert_error(r, 3, "InvalidCiphertextException"))
    assert len(messages) == 1, messages  # nobody learns which check failed


def test_truncated_and_extended_blobs_are_refused(seed, key):
    blob = encrypt(seed, key, b"hello")
    for damaged in (blob[:1], blob[: ciphertext.OVERHEAD - 1], blob[: ciphertext.OVERHEAD], blob[:-1], blob + b"\x00"):
        assert_error(decrypt(seed, damaged), 3, "InvalidCiphertextException")


def test_a_blob_naming_an_unknown_key_or_material_is_invalid_ciphertext(seed, key):
    blob = encrypt(seed, key, b"hello")
    unknown_key = blob[:1] + uuid.uuid4().bytes + blob[17:]
    unknown_material = blob[:17] + bytes(32) + blob[49:]
    assert_error(decrypt(seed, unknown_key), 3, "InvalidCiphertextException")
    assert_error(decrypt(seed, unknown_material), 3, "InvalidCiphertextException")


def test_a_blob_naming_a_key_of_another_usage_is_invalid_ciphertext(seed, key):
    blob = encrypt(seed, key, b"hello")
    hmac_key = seed.key("HMAC_256", "GENERATE_VERIFY_MAC")
    assert_error(decrypt(seed, blob[:1] + uuid.UUID(hmac_key).bytes + blob[17:]), 3, "InvalidCiphertextException")


def test_a_blob_moved_to_another_key_is_invalid_ciphertext(seed, key):
    # The header is in the AAD: re-pointing a blob at another key (whose material id is
    # swapped in too) still fails to authenticate.
    other = ok_json(seed.run("create-key"))["KeyMetadata"]
    blob = encrypt(seed, key, b"hello")
    moved = blob[:1] + uuid.UUID(other["KeyId"]).bytes + bytes.fromhex(other["CurrentKeyMaterialId"]) + blob[49:]
    assert_error(decrypt(seed, moved), 3, "InvalidCiphertextException")


@pytest.mark.parametrize("text", ["not base64!", "AAA", "AAB=", "QUJD\x00"])
def test_bad_base64_is_a_usage_error(seed, text):
    assert_error(seed.run("decrypt", "--ciphertext-blob", text), 2, "ValidationException")


def test_an_oversized_blob_is_refused(seed):
    assert_error(seed.run("decrypt", "--in", "-", input=b"\x01" * 6145), 2, "ValidationException")
    assert_error(seed.run("decrypt", "--ciphertext-blob", b64(b"\x01" * 6145)), 2, "ValidationException")


def test_raw_bytes_in_and_out(seed, key, tmp_path):
    plaintext = bytes(range(256))
    (tmp_path / "plain").write_bytes(plaintext)
    r = seed.run("encrypt", "--key-id", key, "--in", tmp_path / "plain", "--out", tmp_path / "blob")
    assert ok_json(r)["KeyId"].endswith(key)
    assert "CiphertextBlob" not in ok_json(r)
    r = seed.run("decrypt", "--in", tmp_path / "blob", "--out", "-")
    assert r.status == 0, r.stderr
    assert r.stdout == plaintext


def test_the_documented_context_encodings_are_the_real_ones():
    import json
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "ciphertext-format.md").read_text()
    rows = re.findall(r"^\| `(\{.*\})` \| `([0-9a-f ]+)` \|$", doc, re.M)
    assert len(rows) == 3
    for context, encoding in rows:
        assert ciphertext.encode_context(json.loads(context)).hex() == encoding.replace(" ", "")
