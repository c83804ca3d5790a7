"""Every valid and invalid spec / usage / algorithm / message-type combination of the
catalogue's newer key specs: Ed25519, ML-DSA, ECC KEY_AGREEMENT and SM2."""

from __future__ import annotations

import base64

import pytest

from conftest import caller, make_keyring
from kmscli import specs

NEW_SIGNING_SPECS = ("ECC_NIST_EDWARDS25519", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87")
NIST_SPECS = ("ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521")


@pytest.fixture(scope="module")
def kms_module(tmp_path_factory):
    return caller(make_keyring(tmp_path_factory.mktemp("catalogue") / "keyring"))


@pytest.fixture(scope="module")
def keys(kms_module):
    """One key of every new spec and usage, created once for the module."""
    made = {}
    for spec in NEW_SIGNING_SPECS:
        made[(spec, "SIGN_VERIFY")] = _create(kms_module, spec, "SIGN_VERIFY")
    for spec in NIST_SPECS:
        made[(spec, "KEY_AGREEMENT")] = _create(kms_module, spec, "KEY_AGREEMENT")
    return made


def _create(kms, spec, usage=None):
    args = ["create-key", "--key-spec", spec] + (["--key-usage", usage] if usage else [])
    r = kms(*args)
    assert r.status == 0, r.stderr
    return r.json()["KeyMetadata"]


# --- create-key: spec x usage ------------------------------------------------------------------


@pytest.mark.parametrize("spec", NEW_SIGNING_SPECS)
def test_signing_specs_default_to_sign_verify(kms_module, spec):
    meta = _create(kms_module, spec)
    assert meta["KeyUsage"] == "SIGN_VERIFY"
    assert meta["SigningAlgorithms"] == list(specs.KEY_SPECS[spec].algorithms["SIGN_VERIFY"])


@pytest.mark.parametrize("spec", NEW_SIGNING_SPECS)
@pytest.mark.parametrize("usage", ["ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"])
def test_signing_specs_refuse_other_usages(kms_module, spec, usage):
    r = kms_module("create-key", "--key-spec", spec, "--key-usage", usage)
    assert r.status == 2
    assert r.stdout == b""
    assert f"ValidationException: KeyUsage {usage} is not compatible with KeySpec {spec}\n" in r.stderr  # AWS's words
    assert "hint: valid: SIGN_VERIFY " in r.stderr


@pytest.mark.parametrize("spec", NIST_SPECS)
def test_nist_curves_take_key_agreement(keys, spec):
    meta = keys[(spec, "KEY_AGREEMENT")]
    assert meta["KeyUsage"] == "KEY_AGREEMENT"
    assert meta["KeyAgreementAlgorithms"] == ["ECDH"]
    assert "SigningAlgorithms" not in meta


@pytest.mark.parametrize("spec", NIST_SPECS)
@pytest.mark.parametrize("usage", ["ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC"])
def test_nist_curves_refuse_other_usages(kms_module, spec, usage):
    r = kms_module("create-key", "--key-spec", spec, "--key-usage", usage)
    assert r.status == 2
    assert "valid: SIGN_VERIFY, KEY_AGREEMENT" in r.stderr


@pytest.mark.parametrize(
    "spec",
    ["SYMMETRIC_DEFAULT", "HMAC_256", "RSA_2048", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "ML_DSA_44"],
)
def test_key_agreement_only_on_nist_curves(kms_module, spec):
    r = kms_module("create-key", "--key-spec", spec, "--key-usage", "KEY_AGREEMENT")
    assert r.status == 2
    assert r.stderr.startswith("kmscli: error: ValidationException: KeyUsage KEY_AGREEMENT is not compatible")


@pytest.mark.parametrize("usage", [None, "SIGN_VERIFY", "ENCRYPT_DECRYPT", "KEY_AGREEMENT"])
def test_sm2_is_refused_clearly(kms_module, usage):
    args = ["create-key", "--key-spec", "SM2"] + (["--key-usage", usage] if usage else [])
    r = kms_module(*args)
    assert r.status == 3
    assert r.stdout == b""
    assert "UnsupportedOperationException" in r.stderr
    assert "the cryptography library offers no SM2" in r.stderr
    assert "Traceback" not in r.stderr
    error, *hints = r.stderr.strip().splitlines()  # one error line, then only hint lines
    assert error.startswith("kmscli: error: ") and all(h.startswith("kmscli: hint: ") for h in hints)


def test_sm2_refusal_creates_nothing(kms_module):
    before = kms_module("list-keys").json()["Keys"]
    assert kms_module("create-key", "--key-spec", "SM2").status == 3
    assert kms_module("list-keys").json()["Keys"] == before


# --- sign: algorithm x message type ---------------------------------------------------------------

MESSAGES = {"RAW": b"a message", "DIGEST": bytes(64), "EXTERNAL_MU": bytes(64)}
VALID = {
    # ED25519_PH_SHA_512 with a RAW --in FILE: the file is hashed here with SHA-512 and that
    # digest signed, as for large RSA/ECDSA files (a RAW --message stays refused, as AWS).
    "ECC_NIST_EDWARDS25519": {("ED25519_SHA_512", "RAW"), ("ED25519_PH_SHA_512", "DIGEST"), ("ED25519_PH_SHA_512", "RAW")},
    "ML_DSA_44": {("ML_DSA_SHAKE_256", "RAW"), ("ML_DSA_SHAKE_256", "EXTERNAL_MU")},
    "ML_DSA_65": {("ML_DSA_SHAKE_256", "RAW"), ("ML_DSA_SHAKE_256", "EXTERNAL_MU")},
    "ML_DSA_87": {("ML_DSA_SHAKE_256", "RAW"), ("ML_DSA_SHAKE_256", "EXTERNAL_MU")},
}
CASES = [
    (spec, algorithm, message_type)
    for spec in NEW_SIGNING_SPECS
    for algorithm in ("ED25519_SHA_512", "ED25519_PH_SHA_512", "ML_DSA_SHAKE_256", "ECDSA_SHA_256", "RSASSA_PSS_SHA_256")
    for message_type in specs.MESSAGE_TYPES
]


@pytest.mark.parametrize("spec,algorithm,message_type", CASES)
def test_sign_and_verify_every_combination(kms_module, keys, tmp_path, spec, algorithm, message_type):
    key = keys[(spec, "SIGN_VERIFY")]["KeyId"]
    message = tmp_path / "message"
    message.write_bytes(MESSAGES[message_type])
    r = kms_module(
        "sign", "--key-id", key, "--in", message, "--signing-algorithm", algorithm, "--message-type", message_type
    )
    if (algorithm, message_type) in VALID[spec]:
        assert r.status == 0, r.stderr
        signature = r.json()["Signature"]
        assert r.json()["SigningAlgorithm"] == algorithm
        v = kms_module(
            "verify", "--key-id", key, "--in", message, "--signing-algorithm", algorithm,
            "--message-type", message_type, "--signature", signature,
        )
        assert v.status == 0, v.stderr
        assert v.json()["SignatureValid"] is True
        # The same signature over another message is a "no" (exit status 1).
        message.write_bytes(b"\x01" + MESSAGES[message_type][1:])
        v = kms_module(
            "verify", "--key-id", key, "--in", message, "--signing-algorithm", algorithm,
            "--message-type", message_type, "--signature", signature,
        )
        assert v.status == 1
        assert "KMSInvalidSignatureException" in v.stderr
        assert v.stdout == b""
    elif algorithm not in specs.KEY_SPECS[spec].algorithms["SIGN_VERIFY"]:
        assert r.status == 3
        assert "InvalidKeyUsageException" in r.stderr
        assert f"Algorithm {algorithm} is incompatible with key spec" in r.stderr  # AWS's words
    else:
        assert r.status == 2
        assert f"ValidationException: MessageType {message_type} is not valid with {algorithm}" in r.stderr
        assert r.stdout == b""


@pytest.mark.parametrize(
    "spec,algorithm,message_type,size",
    [
        ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "DIGEST", 63),
        ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "DIGEST", 65),
        ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "DIGEST", 32),
        ("ML_DSA_65", "ML_DSA_SHAKE_256", "EXTERNAL_MU", 63),
        ("ML_DSA_65", "ML_DSA_SHAKE_256", "EXTERNAL_MU", 65),
        ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "RAW", 4097),
        ("ML_DSA_44", "ML_DSA_SHAKE_256", "RAW", 4097),
    ],
)
def test_wrong_sizes_are_validation_errors(kms_module, keys, tmp_path, spec, algorithm, message_type, size):
    key = keys[(spec, "SIGN_VERIFY")]["KeyId"]
    message = tmp_path / "message"
    message.write_bytes(b"m" * size)
    r = kms_module(
        "sign", "--key-id", key, "--in", message, "--signing-algorithm", algorithm, "--message-type", message_type
    )
    assert r.status == 2
    assert "ValidationException" in r.stderr
    assert r.stdout == b""


@pytest.mark.parametrize("spec", NIST_SPECS)
def test_key_agreement_keys_cannot_sign(kms_module, keys, spec):
    key = keys[(spec, "KEY_AGREEMENT")]["KeyId"]
    algorithm = specs.KEY_SPECS[spec].algorithms["SIGN_VERIFY"][0]
    r = kms_module("sign", "--key-id", key, "--message", "m", "--signing-algorithm", algorithm)
    assert r.status == 3
    assert "InvalidKeyUsageException" in r.stderr
    assert "key usage is KEY_AGREEMENT which is not valid for Sign." in r.stderr  # AWS's words


# --- get-public-key and the offline PEM carry the configuration ------------------------------------


@pytest.mark.parametrize(
    "spec,usage,field,expected",
    [
        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "SigningAlgorithms", ["ED25519_SHA_512", "ED25519_PH_SHA_512"]),
        ("ML_DSA_44", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]),
        ("ML_DSA_65", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]),
        ("ML_DSA_87", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]),
        ("ECC_NIST_P256", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]),
        ("ECC_NIST_P384", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]),
        ("ECC_NIST_P521", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]),
    ],
)
def test_public_key_carries_configuration(kms_module, keys, tmp_path, spec, usage, field, expected):
    from kmscli.service.pem import read_config

    key = keys[(spec, usage)]["KeyId"]
    result = kms_module("get-public-key", "--key-id", key).json()
    assert result["KeySpec"] == spec
    assert result["KeyUsage"] == usage
    assert result[field] == expected
    other = {"SigningAlgorithms", "KeyAgreementAlgorithms", "EncryptionAlgorithms"} - {field}
    assert not other & set(result)
    pem = tmp_path / "key.pem"
    r = kms_module("get-public-key", "--key-id", key, "--out", pem)
    assert r.status == 0, r.stderr
    text = pem.read_bytes()
    config = read_config(text)
    assert config == {"KeyId": result["KeyId"], "KeySpec": spec, "KeyUsage": usage, field: expected}
    assert f"{field}: {', '.join(expected)}".encode() in text
    # The DER inside the PEM is the DER that get-public-key printed.
    body = b"".join(text.split(b"-----BEGIN PUBLIC KEY-----")[1].split(b"-----END")[0].split())
    assert base64.b64decode(body) == base64.b64decode(result["PublicKey"])
