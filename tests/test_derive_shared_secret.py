"""derive-shared-secret: ECDH of a KEY_AGREEMENT key with a peer's public key."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from conftest import create_key

CURVES = {"ECC_NIST_P256": ec.SECP256R1, "ECC_NIST_P384": ec.SECP384R1, "ECC_NIST_P521": ec.SECP521R1}


def _spki(public_key, encoding):
    return public_key.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("spec", CURVES)
@pytest.mark.parametrize("encoding", [serialization.Encoding.DER, serialization.Encoding.PEM])
def test_shared_secret_equals_the_peers(kms, tmp_path, spec, encoding):
    key = create_key(kms, spec, "KEY_AGREEMENT")
    peer = ec.generate_private_key(CURVES[spec]())
    (tmp_path / "peer").write_bytes(_spki(peer.public_key(), encoding))
    result = kms("derive-shared-secret", "--key-id", key, "--key-agreement-algorithm", "ECDH",
                 "--public-key", tmp_path / "peer").json()
    assert set(result) == {"KeyId", "SharedSecret", "KeyAgreementAlgorithm", "KeyOrigin"}
    assert result["KeyAgreementAlgorithm"] == "ECDH"
    assert result["KeyOrigin"] == "AWS_KMS"
    assert result["KeyId"].endswith(key)
    # The peer's side, computed here from kmscli's exported public key.
    exported = base64.b64decode(kms("get-public-key", "--key-id", key).json()["PublicKey"])
    ours = peer.exchange(ec.ECDH(), serialization.load_der_public_key(exported))
    assert base64.b64decode(result["SharedSecret"]) == ours
    assert len(ours) == (CURVES[spec]().key_size + 7) // 8


def test_out_writes_the_raw_secret_and_fileb_is_accepted(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_P256", "KEY_AGREEMENT")
    peer = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "peer.der").write_bytes(_spki(peer.public_key(), serialization.Encoding.DER))
    r = kms("derive-shared-secret", "--key-id", key, "--public-key", f"fileb://{tmp_path / 'peer.der'}",
            "--out", tmp_path / "secret.bin")
    assert r.status == 0, r.stderr
    assert "SharedSecret" not in r.json()
    exported = base64.b64decode(kms("get-public-key", "--key-id", key).json()["PublicKey"])
    assert (tmp_path / "secret.bin").read_bytes() == peer.exchange(
        ec.ECDH(), serialization.load_der_public_key(exported)
    )
    r = kms("derive-shared-secret", "--key-id", key, "--public-key", tmp_path / "peer.der", "--out", "-")
    assert r.status == 0
    assert r.stdout == (tmp_path / "secret.bin").read_bytes()


def test_peer_key_on_another_curve_is_a_validation_error(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_P256", "KEY_AGREEMENT")
    for other in (ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP256K1()),
                  ed25519.Ed25519PrivateKey.generate()):
        (tmp_path / "peer").write_bytes(_spki(other.public_key(), serialization.Encoding.DER))
        r = kms("derive-shared-secret", "--key-id", key, "--public-key", tmp_path / "peer")
        assert r.status == 2
        assert r.stdout == b""
        assert "ValidationException: PublicKey is not an elliptic-curve key on the curve of ECC_NIST_P256" in r.stderr


@pytest.mark.parametrize("content", [b"", b"not a key", b"\x30\x03\x02\x01\x00", b"A" * 8193])
def test_malformed_peer_keys_are_validation_errors(kms, tmp_path, content):
    key = create_key(kms, "ECC_NIST_P384", "KEY_AGREEMENT")
    (tmp_path / "peer").write_bytes(content)
    r = kms("derive-shared-secret", "--key-id", key, "--public-key", tmp_path / "peer")
    assert r.status == 2
    assert "ValidationException" in r.stderr
    assert r.stdout == b""


@pytest.mark.parametrize(
    "spec,usage",
    [
        ("ECC_NIST_P256", "SIGN_VERIFY"),
        ("ECC_SECG_P256K1", None),
        ("ECC_NIST_EDWARDS25519", None),
        ("SYMMETRIC_DEFAULT", None),
        ("HMAC_256", None),
        ("ML_DSA_44", None),
    ],
)
def test_other_keys_refuse_key_agreement(kms, tmp_path, spec, usage):
    key = create_key(kms, spec, usage)
    peer = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "peer").write_bytes(_spki(peer.public_key(), serialization.Encoding.DER))
    r = kms("derive-shared-secret", "--key-id", key, "--public-key", tmp_path / "peer")
    assert r.status == 3
    assert r.stdout == b""
    assert "InvalidKeyUsageException" in r.stderr
    assert "which is not valid for DeriveSharedSecret." in r.stderr  # AWS's words


def test_only_ecdh_is_an_algorithm(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_P256", "KEY_AGREEMENT")
    (tmp_path / "peer").write_bytes(_spki(ec.generate_private_key(ec.SECP256R1()).public_key(), serialization.Encoding.DER))
    r = kms("derive-shared-secret", "--key-id", key, "--key-agreement-algorithm", "ECDHE", "--public-key", tmp_path / "peer")
    assert r.status == 2
    assert "ValidationException" in r.stderr
