"""RSAES-OAEP: AWS's plaintext limits, round trips, and ciphertexts that openssl made."""

from __future__ import annotations

import os

import pytest

from seed_keys import assert_error, b64, ok_json, openssl, seed, unb64  # noqa: F401

# AWS's documented limits, literally (kms-facts.md), not computed from the catalogue.
LIMITS = {
    ("RSA_2048", "RSAES_OAEP_SHA_1"): 214,
    ("RSA_3072", "RSAES_OAEP_SHA_1"): 342,
    ("RSA_4096", "RSAES_OAEP_SHA_1"): 470,
    ("RSA_2048", "RSAES_OAEP_SHA_256"): 190,
    ("RSA_3072", "RSAES_OAEP_SHA_256"): 318,
    ("RSA_4096", "RSAES_OAEP_SHA_256"): 446,
}
CASES = sorted(LIMITS)


def encrypt(seed, spec, algorithm, plaintext: bytes):
    return seed.run("encrypt", "--key-id", seed.key(spec, "ENCRYPT_DECRYPT"), "--in", "-",
                    "--encryption-algorithm", algorithm, input=plaintext)


def decrypt(seed, spec, algorithm, blob: bytes, key_id=None):
    return seed.run("decrypt", "--key-id", key_id or seed.key(spec, "ENCRYPT_DECRYPT"),
                    "--ciphertext-blob", b64(blob), "--encryption-algorithm", algorithm)


@pytest.mark.parametrize("spec,algorithm", CASES)
def test_round_trip_at_the_limit_and_refusal_above_it(seed, spec, algorithm):
    limit = LIMITS[(spec, algorithm)]
    plaintext = os.urandom(limit)
    result = ok_json(encrypt(seed, spec, algorithm, plaintext))
    assert result["EncryptionAlgorithm"] == algorithm
    blob = unb64(result["CiphertextBlob"])
    assert len(blob) == int(spec.split("_")[1]) // 8
    opened = ok_json(decrypt(seed, spec, algorithm, blob))
    assert unb64(opened["Plaintext"]) == plaintext
    assert "KeyMaterialId" not in opened  # AWS gives it for symmetric keys only
    line = assert_error(encrypt(seed, spec, algorithm, plaintext + b"x"), 2, "ValidationException")
    assert str(limit) in line


@pytest.mark.parametrize("spec,algorithm", CASES)
def test_openssl_oaep_ciphertexts_decrypt_with_kmscli(seed, tmp_path, spec, algorithm):
    pem = tmp_path / "key.pem"
    assert seed.run("get-public-key", "--key-id", seed.key(spec, "ENCRYPT_DECRYPT"), "--out", pem).status == 0
    md = {"RSAES_OAEP_SHA_1": "sha1", "RSAES_OAEP_SHA_256": "sha256"}[algorithm]
    plaintext = os.urandom(LIMITS[(spec, algorithm)])
    (tmp_path / "plain").write_bytes(plaintext)
    p = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", str(pem), "-in", str(tmp_path / "plain"),
                "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{md}", "-pkeyopt", f"rsa_mgf1_md:{md}")
    assert p.returncode == 0, p.stderr
    r = seed.run("decrypt", "--key-id", seed.key(spec, "ENCRYPT_DECRYPT"), "--in", "-",
                 "--encryption-algorithm", algorithm, "--out", "-", input=p.stdout)
    assert r.status == 0, r.stderr
    assert r.stdout == plaintext


def test_empty_plaintext_is_refused(seed):
    assert_error(encrypt(seed, "RSA_2048", "RSAES_OAEP_SHA_256", b""), 2, "ValidationException")


def test_decrypt_with_the_other_oaep_hash_is_invalid_ciphertext(seed):
    blob = unb64(ok_json(encrypt(seed, "RSA_2048", "RSAES_OAEP_SHA_1", b"hello"))["CiphertextBlob"])
    assert_error(decrypt(seed, "RSA_2048", "RSAES_OAEP_SHA_256", blob), 3, "InvalidCiphertextException")


def test_damaged_rsa_ciphertexts_are_one_opaque_error(seed):
    blob = unb64(ok_json(encrypt(seed, "RSA_2048", "RSAES_OAEP_SHA_256", b"hello"))["CiphertextBlob"])
    messages = set()
    for damaged in (blob[:-1], blob + b"\x00", bytes([blob[0] ^ 1]) + blob[1:], blob[:100] + bytes([blob[100] ^ 0x80]) + blob[101:],
                    blob[:-1] + bytes([blob[-1] ^ 1])):
        messages.add(assert_error(decrypt(seed, "RSA_2048", "RSAES_OAEP_SHA_256", damaged), 3, "InvalidCiphertextException"))
    assert len(messages) == 1


def test_decrypt_with_another_rsa_key_is_invalid_ciphertext(seed):
    blob = unb64(ok_json(encrypt(seed, "RSA_2048", "RSAES_OAEP_SHA_256", b"hello"))["CiphertextBlob"])
    other = seed.key("RSA_3072", "ENCRYPT_DECRYPT")
    assert_error(decrypt(seed, "RSA_3072", "RSAES_OAEP_SHA_256", blob, key_id=other), 3, "InvalidCiphertextException")


def test_rsa_decrypt_needs_the_key_id(seed):
    blob = unb64(ok_json(encrypt(seed, "RSA_2048", "RSAES_OAEP_SHA_256", b"hello"))["CiphertextBlob"])
    r = seed.run("decrypt", "--ciphertext-blob", b64(blob), "--encryption-algorithm", "RSAES_OAEP_SHA_256")
    assert_error(r, 2, "ValidationException")


def test_an_rsa_key_refuses_symmetric_default(seed):
    r = seed.run("encrypt", "--key-id", seed.key("RSA_2048", "ENCRYPT_DECRYPT"), "--plaintext", "x")
    line = assert_error(r, 3, "InvalidKeyUsageException")
    assert line.endswith("Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.")  # AWS's words
