"""Sign and verify with every seed signing algorithm, RAW and DIGEST, checked by openssl
(a program nobody here wrote) against the PEM that get-public-key exports."""

from __future__ import annotations

import hashlib

import pytest

from seed_keys import SEED_ALGORITHMS, assert_error, b64, ok_json, openssl, seed, unb64  # noqa: F401

from kmscli import specs

SIGNING = [(spec, alg) for spec, usage, alg in SEED_ALGORITHMS if usage == "SIGN_VERIFY"]
MESSAGE = b"kmscli signs this message\n" * 3


def hash_name(algorithm: str) -> str:
    return specs.SIGNING_ALGORITHMS[algorithm].hash.replace("SHA_", "sha")


def digest_of(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(hash_name(algorithm), data).digest()


@pytest.fixture(scope="module")
def pems(seed, tmp_path_factory):
    """spec -> path of the exported PEM of its SIGN_VERIFY key."""
    directory = tmp_path_factory.mktemp("pems")
    paths = {}
    for spec in {s for s, _ in SIGNING}:
        path = directory / f"{spec}.pem"
        r = seed.run("get-public-key", "--key-id", seed.key(spec, "SIGN_VERIFY"), "--out", path)
        assert r.status == 0, r.stderr
        paths[spec] = path
    return paths


def sign(seed, spec, algorithm, message: bytes, message_type="RAW") -> bytes:
    r = seed.run(
        "sign", "--key-id", seed.key(spec, "SIGN_VERIFY"), "--in", "-",
        "--signing-algorithm", algorithm, "--message-type", message_type,
        input=message,
    )
    result = ok_json(r)
    assert result["SigningAlgorithm"] == algorithm
    return unb64(result["Signature"])


def verify(seed, spec, algorithm, message: bytes, signature: bytes, message_type="RAW"):
    return seed.run(
        "verify", "--key-id", seed.key(spec, "SIGN_VERIFY"), "--in", "-",
        "--signing-algorithm", algorithm, "--message-type", message_type,
        "--signature", b64(signature),
        input=message,
    )


def openssl_verifies(pem, algorithm, message: bytes, signature: bytes, tmp_path) -> bool:
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    args = ["dgst", f"-{hash_name(algorithm)}", "-verify", str(pem), "-signature", str(tmp_path / "sig")]
    if specs.SIGNING_ALGORITHMS[algorithm].scheme == "PSS":
        args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
    p = openssl(*args, str(tmp_path / "msg"))
    return p.returncode == 0 and b"Verified OK" in p.stdout


def test_every_seed_signing_algorithm_is_exercised():
    assert len(SIGNING) == 3 * 6 + 4
    assert ("ECC_SECG_P256K1", "ECDSA_SHA_256") in SIGNING


@pytest.mark.parametrize("spec,algorithm", SIGNING)
@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
def test_openssl_verifies_kmscli_signatures(seed, pems, tmp_path, spec, algorithm, message_type):
    data = MESSAGE if message_type == "RAW" else digest_of(algorithm, MESSAGE)
    signature = sign(seed, spec, algorithm, data, message_type)
    # Over the ORIGINAL message in both cases: a DIGEST is signed as is, never hashed again.
    assert openssl_verifies(pems[spec], algorithm, MESSAGE, signature, tmp_path)
    assert not openssl_verifies(pems[spec], algorithm, MESSAGE + b"!", signature, tmp_path)
    # kmscli agrees, and a RAW and a DIGEST signature are interchangeable.
    assert ok_json(verify(seed, spec, algorithm, MESSAGE, signature, "RAW"))["SignatureValid"] is True
    digest = digest_of(algorithm, MESSAGE)
    assert ok_json(verify(seed, spec, algorithm, digest, signature, "DIGEST"))["SignatureValid"] is True


@pytest.mark.parametrize("spec,algorithm", SIGNING)
def test_a_signature_over_another_message_is_refused(seed, spec, algorithm):
    signature = sign(seed, spec, algorithm, MESSAGE)
    r = verify(seed, spec, algorithm, MESSAGE + b"!", signature)
    assert_error(r, 1, "KMSInvalidSignatureException")


def test_every_flipped_byte_of_an_ecdsa_signature_is_refused(seed):
    signature = sign(seed, "ECC_NIST_P256", "ECDSA_SHA_256", MESSAGE)
    for position in range(len(signature)):
        damaged = bytearray(signature)
        damaged[position] ^= 0x01
        r = verify(seed, "ECC_NIST_P256", "ECDSA_SHA_256", MESSAGE, bytes(damaged))
        assert_error(r, 1, "KMSInvalidSignatureException")


@pytest.mark.parametrize("algorithm", ["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_512"])
def test_flipped_rsa_signatures_and_wrong_lengths_are_refused(seed, algorithm):
    signature = sign(seed, "RSA_2048", algorithm, MESSAGE)
    for position in (0, 1, 100, len(signature) - 1):
        damaged = bytearray(signature)
        damaged[position] ^= 0x80
        assert_error(verify(seed, "RSA_2048", algorithm, MESSAGE, bytes(damaged)), 1, "KMSInvalidSignatureException")
    for damaged in (signature[:-1], signature + b"\x00", b"\x00"):
        assert_error(verify(seed, "RSA_2048", algorithm, MESSAGE, damaged), 1, "KMSInvalidSignatureException")


def test_a_signature_under_another_algorithm_is_refused(seed):
    signature = sign(seed, "RSA_2048", "RSASSA_PSS_SHA_256", MESSAGE)
    r = verify(seed, "RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", MESSAGE, signature)
    assert_error(r, 1, "KMSInvalidSignatureException")


def test_ecdsa_signatures_are_der(seed):
    signature = sign(seed, "ECC_NIST_P384", "ECDSA_SHA_384", MESSAGE)
    assert signature[0] == 0x30 and signature[1] == len(signature) - 2  # SEQUENCE, short length
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(signature)
    assert r > 0 and s > 0


# --- AWS's size rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("size,ok", [(1, True), (4096, True), (0, False), (4097, False)])
def test_raw_messages_are_1_to_4096_bytes(seed, size, ok):
    # --message keeps AWS's RAW limit; --in FILE streams larger inputs (tests/test_file_signing*.py).
    r = seed.run("sign", "--key-id", seed.key("ECC_NIST_P256", "SIGN_VERIFY"), "--message", "m" * size,
                 "--signing-algorithm", "ECDSA_SHA_256")
    if ok:
        assert ok_json(r)["Signature"]
    else:
        assert_error(r, 2, "ValidationException")


@pytest.mark.parametrize("spec,algorithm", [("ECC_NIST_P256", "ECDSA_SHA_256"), ("RSA_2048", "RSASSA_PSS_SHA_384"),
                                            ("ECC_NIST_P521", "ECDSA_SHA_512")])
def test_a_digest_must_have_exactly_the_hash_length(seed, spec, algorithm):
    length = specs.SIGNING_ALGORITHMS[algorithm].digest_length
    for size in (length - 1, length + 1, 20):
        r = seed.run("sign", "--key-id", seed.key(spec, "SIGN_VERIFY"), "--in", "-",
                     "--signing-algorithm", algorithm, "--message-type", "DIGEST", input=b"d" * size)
        line = assert_error(r, 2, "ValidationException")
        assert line == f"kmscli: error: ValidationException: Digest is invalid length for algorithm {algorithm}."  # AWS's words
        assert f"exactly {length} bytes" in r.stderr


def test_verify_refuses_an_empty_or_oversized_signature(seed):
    key = seed.key("ECC_NIST_P256", "SIGN_VERIFY")
    for sig in ("", b64(b"\x30" * 6145)):
        r = seed.run("verify", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256", "--signature", sig)
        assert_error(r, 2, "ValidationException")


def test_signature_raw_out_and_file_in(seed, tmp_path):
    key = seed.key("ECC_NIST_P256", "SIGN_VERIFY")
    (tmp_path / "msg").write_bytes(MESSAGE)
    r = seed.run("sign", "--key-id", key, "--in", tmp_path / "msg", "--signing-algorithm", "ECDSA_SHA_256",
                 "--out", tmp_path / "sig")
    assert "Signature" not in ok_json(r)
    r = seed.run("verify", "--key-id", key, "--in", tmp_path / "msg", "--signing-algorithm", "ECDSA_SHA_256",
                 "--signature-file", tmp_path / "sig")
    assert ok_json(r)["SignatureValid"] is True


# --- get-public-key --------------------------------------------------------------------------------


@pytest.mark.parametrize("spec,usage", [("RSA_2048", "ENCRYPT_DECRYPT"), ("RSA_3072", "SIGN_VERIFY"),
                                        ("ECC_SECG_P256K1", "SIGN_VERIFY")])
def test_get_public_key_json_is_der_with_the_configuration(seed, spec, usage):
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    result = ok_json(seed.run("get-public-key", "--key-id", seed.key(spec, usage)))
    public = load_der_public_key(unb64(result["PublicKey"]))
    assert public is not None
    assert result["KeyId"] == f"arn:aws:kms:local:000000000000:key/{seed.key(spec, usage)}"
    assert (result["KeySpec"], result["KeyUsage"]) == (spec, usage)
    field = specs.ALGORITHM_FIELD[usage]
    assert result[field] == list(specs.KEY_SPECS[spec].algorithms[usage])


@pytest.mark.parametrize("output", ["text", "table"])
def test_get_public_key_shows_the_configuration_in_every_output(seed, output):
    key = seed.key("RSA_2048", "SIGN_VERIFY")
    r = seed.run("--output", output, "get-public-key", "--key-id", key)
    assert r.status == 0, r.stderr
    text = r.out
    for needed in ("RSA_2048", "SIGN_VERIFY", *specs.KEY_SPECS["RSA_2048"].algorithms["SIGN_VERIFY"], key):
        assert needed in text.replace("\n", "").replace("│", "").replace(" ", "") or needed in text


def test_exported_pem_carries_the_configuration_and_openssl_reads_it(seed, tmp_path):
    key = seed.key("RSA_2048", "ENCRYPT_DECRYPT")
    pem = tmp_path / "key.pem"
    result = ok_json(seed.run("get-public-key", "--key-id", key, "--out", pem))
    assert "PublicKey" in result and result["KeySpec"] == "RSA_2048"
    text = pem.read_text()
    head, _, body = text.partition("-----BEGIN PUBLIC KEY-----")
    assert f"KeyId: arn:aws:kms:local:000000000000:key/{key}" in head
    assert "KeySpec: RSA_2048" in head
    assert "KeyUsage: ENCRYPT_DECRYPT" in head
    assert "EncryptionAlgorithms: RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256" in head
    assert body.rstrip().endswith("-----END PUBLIC KEY-----")
    p = openssl("pkey", "-pubin", "-in", str(pem), "-outform", "DER")
    assert p.returncode == 0, p.stderr
    assert p.stdout == unb64(result["PublicKey"])


def test_get_public_key_der_out(seed, tmp_path):
    key = seed.key("ECC_NIST_P256", "SIGN_VERIFY")
    r = seed.run("get-public-key", "--key-id", key, "--format", "der", "--out", tmp_path / "key.der")
    assert unb64(ok_json(r)["PublicKey"]) == (tmp_path / "key.der").read_bytes()
    p = openssl("pkey", "-pubin", "-inform", "DER", "-in", str(tmp_path / "key.der"), "-noout")
    assert p.returncode == 0, p.stderr


def test_get_public_key_pem_to_stdout_is_only_the_pem(seed):
    r = seed.run("get-public-key", "--key-id", seed.key("ECC_NIST_P384", "SIGN_VERIFY"), "--out", "-")
    assert r.status == 0, r.stderr
    assert r.out.startswith("KeyId: ") and r.out.endswith("-----END PUBLIC KEY-----\n")
    p = openssl("pkey", "-pubin", "-noout", input=r.stdout)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("spec,usage", [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("HMAC_256", "GENERATE_VERIFY_MAC")])
def test_symmetric_keys_have_no_public_key(seed, spec, usage):
    assert_error(seed.run("get-public-key", "--key-id", seed.key(spec, usage)), 3, "UnsupportedOperationException")


@pytest.mark.parametrize("state,error", [("Disabled", "DisabledException"), ("PendingDeletion", "KMSInvalidStateException")])
def test_get_public_key_of_a_key_that_is_not_enabled_is_refused(kms, keyring_env, state, error):
    # AWS's GetPublicKey fails on a disabled key or one pending deletion, like every other
    # cryptographic operation. The state is set through the keyring API: the commands that
    # change it are not part of the foundation.
    from pathlib import Path

    from conftest import PASSPHRASE, create_key

    from kmscli.keyring import Keyring

    key = create_key(kms, "ECC_NIST_P256")
    ring = Keyring.open(Path(keyring_env["KMSCLI_KEYRING"]), unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    doc = ring.load_key(key)
    doc["metadata"]["KeyState"] = state
    ring.save_key(doc)
    assert_error(kms("get-public-key", "--key-id", key), 3, error)
    assert_error(kms("sign", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"), 3, error)
