"""Ed25519, Ed25519ph and ML-DSA signatures, checked by parties other than kmscli."""

from __future__ import annotations

import base64
import hashlib
import subprocess

import pytest

from conftest import create_key

# RFC 8032 §7.3, test "abc": Ed25519ph.
RFC8032_PH_SECRET = bytes.fromhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
RFC8032_PH_PUBLIC = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
RFC8032_PH_SIGNATURE = bytes.fromhex(
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
    "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
)


def _sign(kms, key, message_path, algorithm, message_type="RAW", out=None):
    args = ["sign", "--key-id", key, "--in", message_path, "--signing-algorithm", algorithm, "--message-type", message_type]
    r = kms(*args, *(["--out", out] if out else []))
    assert r.status == 0, r.stderr
    return r


def test_ed25519_raw_verifies_with_openssl(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_EDWARDS25519")
    message, signature, pem = tmp_path / "msg", tmp_path / "sig", tmp_path / "key.pem"
    message.write_bytes(b"release notes for 1.0\n")
    _sign(kms, key, message, "ED25519_SHA_512", out=signature)
    assert len(signature.read_bytes()) == 64
    assert kms("get-public-key", "--key-id", key, "--out", pem).status == 0
    ok = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", pem, "-in", message, "-sigfile", signature],
        capture_output=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert b"Signature Verified Successfully" in ok.stdout
    message.write_bytes(b"release notes for 1.1\n")
    bad = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", pem, "-in", message, "-sigfile", signature],
        capture_output=True,
    )
    assert bad.returncode != 0


def test_ed25519ph_digest_is_hashed_again_as_aws_defines(kms, tmp_path):
    """ED25519_PH_SHA_512 over a 64-byte digest D is Ed25519ph(D), i.e. Ed25519 with the
    RFC 8032 dom2 prefix over SHA-512(D): checked with pycryptodome, an independent
    implementation, against the PEM that kmscli exported."""
    from Crypto.Hash import SHA512
    from Crypto.PublicKey import ECC
    from Crypto.Signature import eddsa

    key = create_key(kms, "ECC_NIST_EDWARDS25519")
    message = b"a message that only the caller ever sees"
    digest = hashlib.sha512(message).digest()
    (tmp_path / "digest").write_bytes(digest)
    result = _sign(kms, key, tmp_path / "digest", "ED25519_PH_SHA_512", "DIGEST").json()
    signature = base64.b64decode(result["Signature"])
    assert kms("get-public-key", "--key-id", key, "--out", tmp_path / "key.pem").status == 0
    pem = (tmp_path / "key.pem").read_text()
    public = ECC.import_key(pem[pem.index("-----BEGIN") :])
    eddsa.new(public, "rfc8032").verify(SHA512.new(digest), signature)  # raises if invalid
    # It is not a plain Ed25519 signature, of the digest or of the message.
    plain = eddsa.new(public, "rfc8032")
    for data in (digest, message):
        with pytest.raises(ValueError):
            plain.verify(data, signature)
    # And hashing once only (Ed25519ph over the message itself) is a different signature.
    with pytest.raises(ValueError):
        eddsa.new(public, "rfc8032").verify(SHA512.new(message), signature)


def test_ed25519ph_matches_rfc8032_vector():
    """The crypto layer's Ed25519ph is RFC 8032's (test "abc" of §7.3)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from kmscli.crypto import ed25519ph

    private = ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_PH_SECRET)
    assert private.public_key().public_bytes_raw() == RFC8032_PH_PUBLIC
    assert ed25519ph.sign(private, b"abc") == RFC8032_PH_SIGNATURE
    assert ed25519ph.verify(RFC8032_PH_PUBLIC, b"abc", RFC8032_PH_SIGNATURE)
    assert not ed25519ph.verify(RFC8032_PH_PUBLIC, b"abd", RFC8032_PH_SIGNATURE)


def test_ed25519ph_without_pynacl_is_a_clear_refusal(kms, tmp_path, monkeypatch):
    import sys

    key = create_key(kms, "ECC_NIST_EDWARDS25519")
    (tmp_path / "digest").write_bytes(bytes(64))
    monkeypatch.setitem(sys.modules, "nacl", None)  # as if PyNaCl were not installed
    r = kms("sign", "--key-id", key, "--in", tmp_path / "digest", "--message-type", "DIGEST",
            "--signing-algorithm", "ED25519_PH_SHA_512")
    assert r.status == 3
    assert r.stdout == b""
    assert "UnsupportedOperationException: ED25519_PH_SHA_512 with MessageType DIGEST" in r.stderr
    assert "cryptography library has no Ed25519ph" in r.stderr
    assert "pip install pynacl" in r.stderr


@pytest.mark.parametrize("spec,size", [("ML_DSA_44", 2420), ("ML_DSA_65", 3309), ("ML_DSA_87", 4627)])
def test_mldsa_raw_verifies_with_the_exported_der(kms, tmp_path, spec, size):
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    key = create_key(kms, spec)
    message = b"x" * 4096
    (tmp_path / "msg").write_bytes(message)
    signature = base64.b64decode(_sign(kms, key, tmp_path / "msg", "ML_DSA_SHAKE_256").json()["Signature"])
    assert len(signature) == size  # FIPS 204 Table 2
    assert kms("get-public-key", "--key-id", key, "--format", "der", "--out", tmp_path / "key.der").status == 0
    public = load_der_public_key((tmp_path / "key.der").read_bytes())
    public.verify(signature, message)  # raises InvalidSignature if not
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        public.verify(signature, message[:-1])


def _external_mu(raw_public: bytes, message: bytes) -> bytes:
    """FIPS 204 §6.2 / Algorithm 2 with an empty context, from hashlib alone:
    tr = SHAKE256(pk, 64); mu = SHAKE256(tr || 0x00 || 0x00 || M, 64)."""
    tr = hashlib.shake_256(raw_public).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"])
def test_mldsa_external_mu_signs_the_message_it_represents(kms, tmp_path, spec):
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    key = create_key(kms, spec)
    der = base64.b64decode(kms("get-public-key", "--key-id", key).json()["PublicKey"])
    public = load_der_public_key(der)
    message = b"a message far longer than kmscli ever sees" * 1000
    mu = _external_mu(public.public_bytes_raw(), message)
    (tmp_path / "mu").write_bytes(mu)
    signature = base64.b64decode(
        _sign(kms, key, tmp_path / "mu", "ML_DSA_SHAKE_256", "EXTERNAL_MU").json()["Signature"]
    )
    public.verify(signature, message)  # an ordinary ML-DSA signature over the whole message
    v = kms("verify", "--key-id", key, "--in", tmp_path / "mu", "--message-type", "EXTERNAL_MU",
            "--signing-algorithm", "ML_DSA_SHAKE_256", "--signature", base64.b64encode(signature).decode())
    assert v.status == 0, v.stderr
    assert v.json()["SignatureValid"] is True
    # The exported PEM alone verifies the same mu, offline: no keyring is opened.
    assert kms("get-public-key", "--key-id", key, "--out", tmp_path / "pq.pem").status == 0
    offline = kms("verify", "--public-key", tmp_path / "pq.pem", "--in", tmp_path / "mu", "--message-type",
                  "EXTERNAL_MU", "--signature", base64.b64encode(signature).decode(),
                  env={"KMSCLI_KEYRING": str(tmp_path / "none"), "KMSCLI_PASSPHRASE": None})
    assert offline.status == 0, offline.stderr
    assert offline.json()["SignatureValid"] is True


def test_one_ml_dsa_class_table_serves_generation_spec_checks_and_outside_keys():
    from kmscli import specs
    from kmscli.crypto import asymmetric, keytype

    ml_dsa = [s for s in specs.KEY_SPECS.values() if s.family == "ML_DSA"]
    assert sorted(asymmetric.mldsa_classes()) == sorted(s.name for s in ml_dsa)
    for spec in ml_dsa:
        public = asymmetric.load_public_key(asymmetric.public_key_der(asymmetric.generate_private_key(spec)))
        assert [s.name for s in ml_dsa if asymmetric.public_key_matches_spec(public, s)] == [spec.name]
        assert keytype.fits_scheme(public, "ML_DSA") and not keytype.fits_scheme(public, "ECDSA")
