"""re-encrypt: between symmetric keys with contexts, from RSA to symmetric and back."""

import base64

import pytest

from conftest import caller, create_key, make_keyring

ARN = "arn:aws:kms:local:000000000000:key/"


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    call = caller(make_keyring(tmp_path_factory.mktemp("reencrypt") / "keyring"))
    call.a = create_key(call)
    call.b = create_key(call)
    call.rsa = create_key(call, "RSA_2048", "ENCRYPT_DECRYPT")
    call.hmac = create_key(call, "HMAC_256")
    return call


def b64(text):
    return base64.b64decode(text)


def encrypt(ring, key, plaintext, *args):
    return ring("encrypt", "--key-id", key, "--plaintext", plaintext, *args).json()["CiphertextBlob"]


def material_id(ring, key):
    return ring("describe-key", "--key-id", key).json()["KeyMetadata"]["CurrentKeyMaterialId"]


def test_between_symmetric_keys_with_contexts(ring, tmp_path):
    source = tmp_path / "secret.bin"
    source.write_bytes(b64(encrypt(ring, ring.a, "the secret", "--encryption-context", "purpose=backup")))
    out = tmp_path / "secret.archive.bin"
    r = ring(
        "re-encrypt", "--in", source,
        "--source-encryption-context", "purpose=backup",
        "--destination-key-id", ring.b,
        "--destination-encryption-context", "purpose=archive",
        "--out", out,
    )
    assert r.json() == {
        "SourceKeyId": ARN + ring.a,
        "KeyId": ARN + ring.b,
        "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        # as AWS: the material of each side, both symmetric here
        "SourceKeyMaterialId": material_id(ring, ring.a),
        "DestinationKeyMaterialId": material_id(ring, ring.b),
    }
    opened = ring("decrypt", "--in", out, "--encryption-context", "purpose=archive").json()
    assert b64(opened["Plaintext"]) == b"the secret"
    assert opened["KeyId"] == ARN + ring.b
    # the new ciphertext is bound to the destination context, not the source one
    r = ring("decrypt", "--in", out, "--encryption-context", "purpose=backup")
    assert r.status == 3 and "InvalidCiphertextException" in r.stderr


def test_wrong_source_context_is_refused_and_reveals_nothing(ring):
    blob = encrypt(ring, ring.a, "the secret", "--encryption-context", "purpose=backup")
    r = ring("re-encrypt", "--ciphertext-blob", blob, "--source-encryption-context", "purpose=other", "--destination-key-id", ring.b)
    assert r.status == 3
    assert "InvalidCiphertextException" in r.stderr
    assert r.stdout == b""


def test_source_key_id_that_did_not_encrypt_is_refused(ring):
    blob = encrypt(ring, ring.a, "x")
    r = ring("re-encrypt", "--ciphertext-blob", blob, "--source-key-id", ring.b, "--destination-key-id", ring.b)
    assert r.status == 3
    assert "IncorrectKeyException" in r.stderr


def test_from_rsa_to_symmetric(ring):
    blob = encrypt(ring, ring.rsa, "rsa secret", "--encryption-algorithm", "RSAES_OAEP_SHA_256")
    r = ring(
        "re-encrypt", "--ciphertext-blob", blob,
        "--source-key-id", ring.rsa, "--source-encryption-algorithm", "RSAES_OAEP_SHA_256",
        "--destination-key-id", ring.a, "--destination-encryption-context", "k=v",
    )
    result = r.json()
    assert result["SourceKeyId"] == ARN + ring.rsa
    assert result["KeyId"] == ARN + ring.a
    assert result["SourceEncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert result["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert "SourceKeyMaterialId" not in result  # an RSA source has no key material id, as AWS
    assert result["DestinationKeyMaterialId"] == material_id(ring, ring.a)
    opened = ring("decrypt", "--ciphertext-blob", result["CiphertextBlob"], "--encryption-context", "k=v").json()
    assert b64(opened["Plaintext"]) == b"rsa secret"


def test_from_rsa_needs_the_source_key(ring):
    blob = encrypt(ring, ring.rsa, "rsa secret", "--encryption-algorithm", "RSAES_OAEP_SHA_1")
    r = ring("re-encrypt", "--ciphertext-blob", blob, "--source-encryption-algorithm", "RSAES_OAEP_SHA_1", "--destination-key-id", ring.a)
    assert r.status == 2
    assert "ValidationException" in r.stderr


def test_from_symmetric_to_rsa(ring):
    blob = encrypt(ring, ring.a, "to rsa", "--encryption-context", "a=b")
    r = ring(
        "re-encrypt", "--ciphertext-blob", blob, "--source-encryption-context", "a=b",
        "--destination-key-id", ring.rsa, "--destination-encryption-algorithm", "RSAES_OAEP_SHA_1",
        "--out", "-",
    )
    assert r.status == 0, r.stderr
    assert len(r.stdout) == 256  # the raw RSA-2048 ciphertext, nothing else
    opened = ring(
        "decrypt", "--ciphertext-blob", base64.b64encode(r.stdout).decode(),
        "--key-id", ring.rsa, "--encryption-algorithm", "RSAES_OAEP_SHA_1",
    ).json()
    assert b64(opened["Plaintext"]) == b"to rsa"


def test_destination_must_support_the_algorithm(ring):
    r = ring(
        "re-encrypt", "--ciphertext-blob", encrypt(ring, ring.a, "x"),
        "--destination-key-id", ring.b, "--destination-encryption-algorithm", "RSAES_OAEP_SHA_256",
    )
    assert r.status == 3
    assert "InvalidKeyUsageException" in r.stderr
    assert r.stdout == b""


def test_destination_must_be_an_encryption_key(ring):
    r = ring("re-encrypt", "--ciphertext-blob", encrypt(ring, ring.a, "x"), "--destination-key-id", ring.hmac)
    assert r.status == 3
    assert "InvalidKeyUsageException" in r.stderr
    assert r.stdout == b""


def test_destination_context_with_an_rsa_key_is_refused(ring):
    blob = encrypt(ring, ring.a, "x")
    r = ring(
        "re-encrypt", "--ciphertext-blob", blob, "--destination-key-id", ring.rsa,
        "--destination-encryption-algorithm", "RSAES_OAEP_SHA_256", "--destination-encryption-context", "a=b",
    )
    assert r.status == 2
    assert "EncryptionContext is supported only with symmetric" in r.stderr


def test_destination_key_is_required(ring):
    r = ring("re-encrypt", "--ciphertext-blob", encrypt(ring, ring.a, "x"))
    assert r.status == 2
    assert "--destination-key-id" in r.stderr


def test_unknown_destination_is_not_found(ring):
    r = ring("re-encrypt", "--ciphertext-blob", encrypt(ring, ring.a, "x"), "--destination-key-id", "alias/nothing")
    assert r.status == 3
    assert "NotFoundException" in r.stderr
