"""Import of key material: wrapped as an AWS user wraps it (openssl, as AWS's docs show),
then really used, deleted, re-imported; and each way it can go wrong, with its own error."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from conftest import create_key

MD = {"SHA_1": "sha1", "SHA_256": "sha256"}


# --- what an AWS user does ------------------------------------------------------------------------


def parameters(kms, key, tmp_path, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048"):
    r = kms("get-parameters-for-import", "--key-id", key, "--wrapping-algorithm", algorithm,
            "--wrapping-key-spec", spec, "--public-key-out", tmp_path / "WrappingPublicKey.der",
            "--import-token-out", tmp_path / "ImportToken.bin")
    assert r.status == 0, r.stderr
    return r.json()


def openssl_oaep(tmp_path, plaintext_path, out_path, md):
    """Exactly the command of AWS's "encrypt your key material" page."""
    subprocess.run(
        ["openssl", "pkeyutl", "-encrypt", "-in", plaintext_path, "-out", out_path,
         "-inkey", tmp_path / "WrappingPublicKey.der", "-keyform", "DER", "-pubin",
         "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{md}", "-pkeyopt", f"rsa_mgf1_md:{md}"],
        check=True, capture_output=True,
    )


def wrap(tmp_path, material: bytes, algorithm: str) -> bytes:
    """The EncryptedKeyMaterial for ``algorithm``, made with openssl as AWS's docs show."""
    md = MD[algorithm.rsplit("_", 2)[-2] + "_" + algorithm.rsplit("_", 1)[-1]]
    (tmp_path / "material.bin").write_bytes(material)
    if algorithm.startswith("RSAES_OAEP"):
        openssl_oaep(tmp_path, tmp_path / "material.bin", tmp_path / "EncryptedKeyMaterial.bin", md)
    else:
        aes = os.urandom(32)
        (tmp_path / "aes-key.bin").write_bytes(aes)
        subprocess.run(
            ["openssl", "enc", "-id-aes256-wrap-pad", "-K", aes.hex(), "-iv", "A65959A6",
             "-in", tmp_path / "material.bin", "-out", tmp_path / "key-material-wrapped.bin"],
            check=True, capture_output=True,
        )
        openssl_oaep(tmp_path, tmp_path / "aes-key.bin", tmp_path / "aes-key-wrapped.bin", md)
        (tmp_path / "EncryptedKeyMaterial.bin").write_bytes(
            (tmp_path / "aes-key-wrapped.bin").read_bytes() + (tmp_path / "key-material-wrapped.bin").read_bytes()
        )
    return (tmp_path / "EncryptedKeyMaterial.bin").read_bytes()


def import_material(kms, key, tmp_path, material, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048", *extra):
    parameters(kms, key, tmp_path, algorithm, spec)
    wrap(tmp_path, material, algorithm)
    return kms("import-key-material", "--key-id", key,
               "--import-token", f"fileb://{tmp_path / 'ImportToken.bin'}",
               "--encrypted-key-material", f"fileb://{tmp_path / 'EncryptedKeyMaterial.bin'}",
               *(extra or ("--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE")))


def external_key(kms, spec="SYMMETRIC_DEFAULT", usage=None):
    return create_key(kms, spec, usage, "--origin", "EXTERNAL")


def pkcs8(private_key) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --- create-key --origin EXTERNAL ---------------------------------------------------------------


def test_external_key_starts_pending_import_without_material(kms, keyring_env):
    key = external_key(kms)
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["Origin"] == "EXTERNAL"
    assert meta["KeyState"] == "PendingImport"
    assert meta["Enabled"] is False
    assert "CurrentKeyMaterialId" not in meta
    text = (os.path.join(keyring_env["KMSCLI_KEYRING"], "keys", key + ".toml"))
    assert "wrapped" not in open(text).read()
    r = kms("encrypt", "--key-id", key, "--plaintext", "x")
    assert r.status == 3
    assert "KMSInvalidStateException" in r.stderr and "is pending import." in r.stderr
    assert r.stdout == b""


def test_pending_import_asymmetric_key_has_no_public_key(kms):
    key = external_key(kms, "ECC_NIST_P256")
    r = kms("get-public-key", "--key-id", key)
    assert r.status == 3
    assert "KMSInvalidStateException" in r.stderr
    assert "get-parameters-for-import" in r.stderr  # the hint names the next command


# --- get-parameters-for-import ---------------------------------------------------------------------


@pytest.mark.parametrize("spec,bits", [("RSA_2048", 2048), ("RSA_3072", 3072), ("RSA_4096", 4096)])
def test_parameters_are_an_rsa_key_and_a_token_valid_24_hours(kms, tmp_path, spec, bits):
    key = external_key(kms)
    before = dt.datetime.now(dt.timezone.utc)
    result = parameters(kms, key, tmp_path, "RSAES_OAEP_SHA_1", spec)
    assert set(result) == {"KeyId", "ImportToken", "PublicKey", "ParametersValidTo"}
    assert result["KeyId"].endswith(key)
    public = serialization.load_der_public_key(base64.b64decode(result["PublicKey"]))
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == bits
    assert (tmp_path / "WrappingPublicKey.der").read_bytes() == base64.b64decode(result["PublicKey"])
    assert (tmp_path / "ImportToken.bin").read_bytes() == base64.b64decode(result["ImportToken"])
    valid_to = dt.datetime.fromisoformat(result["ParametersValidTo"])
    assert dt.timedelta(hours=23, minutes=59) < valid_to - before <= dt.timedelta(hours=24, seconds=5)


def test_parameters_refused_for_aws_kms_keys(kms, tmp_path):
    key = create_key(kms)
    r = kms("get-parameters-for-import", "--key-id", key, "--wrapping-algorithm", "RSAES_OAEP_SHA_256",
            "--wrapping-key-spec", "RSA_2048")
    assert r.status == 3
    assert "UnsupportedOperationException" in r.stderr and "--origin EXTERNAL" in r.stderr


@pytest.mark.parametrize("option,value", [("--wrapping-algorithm", "RSAES_PKCS1_V1_5"), ("--wrapping-key-spec", "RSA_1024")])
def test_parameters_refuse_unknown_choices(kms, option, value):
    key = external_key(kms)
    args = {"--wrapping-algorithm": "RSAES_OAEP_SHA_256", "--wrapping-key-spec": "RSA_2048", option: value}
    r = kms("get-parameters-for-import", "--key-id", key, *[x for kv in args.items() for x in kv])
    assert r.status == 2
    assert "ValidationException" in r.stderr


# --- symmetric material: used, deleted, re-imported ------------------------------------------------


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"])
def test_symmetric_material_round_trip_delete_reimport(kms, tmp_path, algorithm):
    key = external_key(kms)
    material = os.urandom(32)
    r = import_material(kms, key, tmp_path, material, algorithm)
    assert r.status == 0, r.stderr
    material_id = r.json()["KeyMaterialId"]
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["KeyState"] == "Enabled"
    assert meta["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert meta["CurrentKeyMaterialId"] == material_id
    blob = kms("encrypt", "--key-id", key, "--plaintext", "kept across re-import").json()["CiphertextBlob"]
    assert base64.b64decode(kms("decrypt", "--ciphertext-blob", blob).json()["Plaintext"]) == b"kept across re-import"

    deleted = kms("delete-imported-key-material", "--key-id", key).json()
    assert deleted["KeyId"].endswith(key)
    assert deleted["KeyMaterialId"] == material_id
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "PendingImport"
    r = kms("decrypt", "--ciphertext-blob", blob)
    assert r.status == 3 and "KMSInvalidStateException" in r.stderr

    r = import_material(kms, key, tmp_path, material, algorithm)
    assert r.status == 0, r.stderr
    assert r.json()["KeyMaterialId"] == material_id
    assert base64.b64decode(kms("decrypt", "--ciphertext-blob", blob).json()["Plaintext"]) == b"kept across re-import"


def test_imported_symmetric_key_really_uses_the_material(kms, tmp_path, keyring_env):
    """The AES-GCM ciphertext opens with the imported bytes themselves (the blob layout of
    docs/ciphertext-format.md: header and empty context as AAD)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = external_key(kms)
    material = os.urandom(32)
    assert import_material(kms, key, tmp_path, material).status == 0
    stored = open(os.path.join(keyring_env["KMSCLI_KEYRING"], "keys", key + ".toml")).read()
    assert base64.b64encode(material).decode() not in stored and material.hex() not in stored
    assert "import_parameters" in stored  # the wrapping private key is there, wrapped
    blob = base64.b64decode(kms("encrypt", "--key-id", key, "--plaintext", "mine").json()["CiphertextBlob"])
    header, nonce, sealed = blob[:49], blob[49:61], blob[61:]
    assert AESGCM(material).decrypt(nonce, sealed, header + b"\x00\x00\x00\x00") == b"mine"


def test_key_material_id_is_the_keyed_hmac_sha256_of_the_material(kms, tmp_path, keyring_env):
    """Pins the KeyMaterialId of imported material: HMAC-SHA-256 under the keyring's import
    sub-key of "key id NUL material". Existing keys remember it, so it must never change."""
    from conftest import PASSPHRASE

    from kmscli.keyring import Keyring
    from kmscli.service.importing import MATERIAL_ID_LABEL

    key = external_key(kms)
    material = os.urandom(32)
    r = import_material(kms, key, tmp_path, material)
    assert r.status == 0, r.stderr
    keyring = Keyring.open(
        keyring_env["KMSCLI_KEYRING"], unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode())
    )
    expected = hmac.new(keyring.subkey(MATERIAL_ID_LABEL), key.encode() + b"\x00" + material, "sha256").hexdigest()
    assert r.json()["KeyMaterialId"] == expected


def test_different_material_is_refused_even_after_delete(kms, tmp_path):
    key = external_key(kms)
    assert import_material(kms, key, tmp_path, os.urandom(32)).status == 0
    assert kms("delete-imported-key-material", "--key-id", key).status == 0
    r = import_material(kms, key, tmp_path, os.urandom(32))
    assert r.status == 3
    assert r.stdout == b""
    assert "IncorrectKeyMaterialException" in r.stderr
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "PendingImport"


def test_reimport_into_a_key_that_has_the_material_changes_its_expiration(kms, tmp_path):
    """AWS (2025): ImportKeyMaterial into an Enabled key re-imports the same material, "to
    change the expiration model or expiration date"; no delete is needed first."""
    key = external_key(kms)
    material = os.urandom(32)
    assert import_material(kms, key, tmp_path, material).status == 0
    valid_to = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).replace(microsecond=0)
    r = import_material(kms, key, tmp_path, material, "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--valid-to", valid_to.isoformat())
    assert r.status == 0, r.stderr
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert dt.datetime.fromisoformat(meta["ValidTo"]) == valid_to


# --- HMAC material ------------------------------------------------------------------------------------

HMAC_RANGES = {"HMAC_224": (28, 64), "HMAC_256": (32, 64), "HMAC_384": (48, 128), "HMAC_512": (64, 128)}


@pytest.mark.parametrize("spec", HMAC_RANGES)
def test_imported_hmac_key_macs_as_python_hmac(kms, tmp_path, spec):
    low, high = HMAC_RANGES[spec]
    bits = spec.split("_")[1]
    key = external_key(kms, spec)
    # RSAES_OAEP_SHA_256 under RSA_2048 carries at most 190 bytes: every HMAC length fits.
    material = os.urandom(high)
    assert import_material(kms, key, tmp_path, material).status == 0
    mac = kms("generate-mac", "--key-id", key, "--message", "hello", "--mac-algorithm", f"HMAC_SHA_{bits}").json()["Mac"]
    assert base64.b64decode(mac) == hmac.new(material, b"hello", getattr(hashlib, f"sha{bits}")).digest()


@pytest.mark.parametrize("spec", HMAC_RANGES)
def test_hmac_lengths_at_the_bounds(kms, tmp_path, spec):
    low, high = HMAC_RANGES[spec]
    for length, ok in ((low - 1, False), (low, True), (high + 1, False)):
        key = external_key(kms, spec)
        r = import_material(kms, key, tmp_path, os.urandom(length))
        if ok:
            assert r.status == 0, r.stderr
        else:
            assert r.status == 3
            assert "IncorrectKeyMaterialException" in r.stderr
            assert f"{low} to {high} bytes, not {length}" in r.stderr


@pytest.mark.parametrize("length", [16, 31, 33, 64])
def test_symmetric_material_must_be_32_bytes(kms, tmp_path, length):
    key = external_key(kms)
    r = import_material(kms, key, tmp_path, os.urandom(length))
    assert r.status == 3
    assert "IncorrectKeyMaterialException" in r.stderr and "exactly 32 bytes" in r.stderr


# --- asymmetric material ---------------------------------------------------------------------------


def test_imported_rsa_key_signs_and_decrypts(kms, tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key()  # derived here, not taken from kmscli
    key = external_key(kms, "RSA_2048", "SIGN_VERIFY")
    r = import_material(kms, key, tmp_path, pkcs8(private), "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072")
    assert r.status == 0, r.stderr
    sig = kms("sign", "--key-id", key, "--message", "hello", "--signing-algorithm", "RSASSA_PSS_SHA_256").json()["Signature"]
    public.verify(
        base64.b64decode(sig), b"hello",
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256(),
    )
    exported = base64.b64decode(kms("get-public-key", "--key-id", key).json()["PublicKey"])
    assert exported == public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    enc_key = external_key(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    assert import_material(kms, enc_key, tmp_path, pkcs8(private), "RSA_AES_KEY_WRAP_SHA_1", "RSA_2048").status == 0
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    blob = base64.b64encode(public.encrypt(b"to the key holder", oaep)).decode()
    r = kms("decrypt", "--key-id", enc_key, "--ciphertext-blob", blob, "--encryption-algorithm", "RSAES_OAEP_SHA_256")
    assert base64.b64decode(r.json()["Plaintext"]) == b"to the key holder"


@pytest.mark.parametrize(
    "spec,curve,algorithm,ecdsa",
    [
        ("ECC_NIST_P256", ec.SECP256R1, "RSAES_OAEP_SHA_1", "ECDSA_SHA_256"),
        ("ECC_NIST_P384", ec.SECP384R1, "RSA_AES_KEY_WRAP_SHA_256", "ECDSA_SHA_384"),
        ("ECC_SECG_P256K1", ec.SECP256K1, "RSAES_OAEP_SHA_256", "ECDSA_SHA_256"),
    ],
)
def test_imported_ec_key_signature_verifies(kms, tmp_path, spec, curve, algorithm, ecdsa):
    private = ec.generate_private_key(curve())
    key = external_key(kms, spec, "SIGN_VERIFY")
    r = import_material(kms, key, tmp_path, pkcs8(private), algorithm)
    assert r.status == 0, r.stderr
    sig = kms("sign", "--key-id", key, "--message", "hello", "--signing-algorithm", ecdsa).json()["Signature"]
    hash_ = {"ECDSA_SHA_256": hashes.SHA256(), "ECDSA_SHA_384": hashes.SHA384()}[ecdsa]
    private.public_key().verify(base64.b64decode(sig), b"hello", ec.ECDSA(hash_))


def test_imported_key_agreement_key_derives_the_peers_secret(kms, tmp_path):
    private = ec.generate_private_key(ec.SECP521R1())
    peer = ec.generate_private_key(ec.SECP521R1())
    key = external_key(kms, "ECC_NIST_P521", "KEY_AGREEMENT")
    # A P-521 PKCS #8 key is too large for RSAES_OAEP under RSA_2048 (as AWS warns): key wrap.
    assert import_material(kms, key, tmp_path, pkcs8(private), "RSA_AES_KEY_WRAP_SHA_256").status == 0
    (tmp_path / "peer.der").write_bytes(
        peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    result = kms("derive-shared-secret", "--key-id", key, "--public-key", tmp_path / "peer.der").json()
    assert result["KeyOrigin"] == "EXTERNAL"
    assert base64.b64decode(result["SharedSecret"]) == peer.exchange(ec.ECDH(), private.public_key())


def test_imported_ed25519_key_signs(kms, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    key = external_key(kms, "ECC_NIST_EDWARDS25519")
    assert import_material(kms, key, tmp_path, pkcs8(private)).status == 0
    sig = kms("sign", "--key-id", key, "--message", "hi", "--signing-algorithm", "ED25519_SHA_512").json()["Signature"]
    private.public_key().verify(base64.b64decode(sig), b"hi")


@pytest.mark.parametrize(
    "spec,usage,material",
    [
        ("ECC_NIST_P256", "SIGN_VERIFY", lambda: pkcs8(ec.generate_private_key(ec.SECP384R1()))),
        ("ECC_NIST_P256", "SIGN_VERIFY", lambda: os.urandom(32)),
        ("RSA_2048", "SIGN_VERIFY", lambda: pkcs8(rsa.generate_private_key(public_exponent=65537, key_size=3072))),
    ],
)
def test_private_key_of_another_spec_is_refused(kms, tmp_path, spec, usage, material):
    key = external_key(kms, spec, usage)
    r = import_material(kms, key, tmp_path, material(), "RSA_AES_KEY_WRAP_SHA_256")
    assert r.status == 3
    assert "IncorrectKeyMaterialException" in r.stderr
    assert f"PKCS #8 DER private key of {spec}" in r.stderr


def test_pem_material_is_refused_with_the_openssl_command_that_converts_it(kms, tmp_path):
    # What openssl genpkey writes by default, and so what a user wraps first: PEM, not DER.
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = external_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    r = import_material(kms, key, tmp_path, pem, "RSA_AES_KEY_WRAP_SHA_256")
    assert r.status == 3 and "IncorrectKeyMaterialException" in r.stderr
    assert r.stderr.splitlines()[1] == (
        "kmscli: hint: wrap the private key as PKCS #8 DER: "
        "openssl pkcs8 -topk8 -nocrypt -outform DER -in KEY.pem -out KEY.der"
    )


# --- each failure, its own error; a failed import changes nothing ---------------------------------


def _key_file(keyring_env, key):
    return os.path.join(keyring_env["KMSCLI_KEYRING"], "keys", key + ".toml")


def _import(kms, key, token, material, *extra):
    return kms("import-key-material", "--key-id", key, "--import-token", base64.b64encode(token).decode(),
               "--encrypted-key-material", base64.b64encode(material).decode(),
               *(extra or ("--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE")))


def test_each_failure_has_its_own_error(kms, tmp_path, keyring_env):
    key = external_key(kms)
    other = external_key(kms)
    params = parameters(kms, key, tmp_path)
    token = base64.b64decode(params["ImportToken"])
    good = wrap(tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256")
    before = open(_key_file(keyring_env, key), "rb").read()

    tampered = bytearray(token)
    tampered[20] ^= 1
    for bad_token in (bytes(tampered), os.urandom(len(token)), b"x"):
        r = _import(kms, key, bad_token, good)
        assert r.status == 3, r.stderr
        assert "InvalidImportTokenException" in r.stderr

    r = _import(kms, other, token, good)  # a token issued for another key
    assert r.status == 3 and "InvalidImportTokenException" in r.stderr and "another key" in r.stderr

    wrong_hash = wrap(tmp_path, os.urandom(32), "RSAES_OAEP_SHA_1")  # parameters said SHA_256
    r = _import(kms, key, token, wrong_hash)
    assert r.status == 3
    assert "InvalidCiphertextException" in r.stderr and "RSAES_OAEP_SHA_256" in r.stderr

    r = _import(kms, key, token, good, "--valid-to", "2000-01-01T00:00:00Z")
    assert r.status == 2 and "ValidationException: ValidTo must be in the future" in r.stderr
    r = _import(kms, key, token, good, "--expiration-model", "KEY_MATERIAL_EXPIRES")
    assert r.status == 2 and "A validTo date must be set" in r.stderr
    far = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=366)).isoformat()
    r = _import(kms, key, token, good, "--valid-to", far)
    assert r.status == 2 and "at most 365 days" in r.stderr
    r = _import(kms, key, token, good, "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--valid-to", far)
    assert r.status == 2 and "ValidTo must be omitted" in r.stderr
    r = _import(kms, key, token, good, "--valid-to", "next tuesday")
    assert r.status == 2 and "is not a timestamp" in r.stderr

    assert open(_key_file(keyring_env, key), "rb").read() == before  # nothing changed
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "PendingImport"
    r = _import(kms, key, token, good)
    assert r.status == 0, r.stderr  # and the right import still works


def test_a_later_get_parameters_replaces_the_earlier_token(kms, tmp_path):
    key = external_key(kms)
    first = base64.b64decode(parameters(kms, key, tmp_path)["ImportToken"])
    first_material = wrap(tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256")
    parameters(kms, key, tmp_path)
    r = _import(kms, key, first, first_material)
    assert r.status == 3
    assert "InvalidImportTokenException" in r.stderr and "latest" in r.stderr


def test_import_into_aws_kms_key_is_unsupported(kms, tmp_path):
    external = external_key(kms)
    token = base64.b64decode(parameters(kms, external, tmp_path)["ImportToken"])
    material = wrap(tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256")
    r = _import(kms, create_key(kms), token, material)
    assert r.status == 3 and "UnsupportedOperationException" in r.stderr
    r = kms("delete-imported-key-material", "--key-id", create_key(kms))
    assert r.status == 3 and "UnsupportedOperationException" in r.stderr



# --- deletion of a key with no key material ---------------------------------------------------------


def test_cancelled_deletion_of_a_key_without_material_is_pending_import(kms):
    """As AWS: a key with no material goes back to PendingImport, not Disabled; it can then
    be neither enabled nor used (enabling it once made encrypt fail with an internal error)."""
    key = external_key(kms)
    assert kms("schedule-key-deletion", "--key-id", key).status == 0
    assert kms("cancel-key-deletion", "--key-id", key).status == 0
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport" and meta["Enabled"] is False
    r = kms("enable-key", "--key-id", key)
    assert r.status == 3 and "KMSInvalidStateException" in r.stderr
    r = kms("encrypt", "--key-id", key, "--plaintext", "x")
    assert r.status == 3 and "KMSInvalidStateException" in r.stderr and "is pending import." in r.stderr


def test_material_of_a_key_pending_deletion_can_be_deleted(kms, tmp_path):
    """As AWS: DeleteImportedKeyMaterial works on a key pending deletion and leaves it
    PendingDeletion; cancelling the deletion then leaves it PendingImport."""
    key = external_key(kms)
    material = os.urandom(32)
    r = import_material(kms, key, tmp_path, material)
    assert r.status == 0, r.stderr
    material_id = r.json()["KeyMaterialId"]
    assert kms("schedule-key-deletion", "--key-id", key).status == 0
    deleted = kms("delete-imported-key-material", "--key-id", key)
    assert deleted.status == 0, deleted.stderr
    assert deleted.json()["KeyMaterialId"] == material_id
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and "DeletionDate" in meta
    assert "CurrentKeyMaterialId" not in meta and "ExpirationModel" not in meta
    assert kms("cancel-key-deletion", "--key-id", key).status == 0
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "PendingImport"
    r = import_material(kms, key, tmp_path, material)
    assert r.status == 0, r.stderr
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "Enabled"


# --- time: expired tokens and expired material ------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """Moves the clock of every keyring the CLI opens: clock.now = ..."""
    from kmscli.cli.context import CliContext
    from kmscli.keyring import Keyring

    class Clock:
        now = dt.datetime.now(dt.timezone.utc)

    def open_keyring(self):
        return Keyring.open(self.keyring_path, unlocker=self.unlock, clock=lambda: Clock.now)

    monkeypatch.setattr(CliContext, "open_keyring", open_keyring)
    return Clock


def test_a_key_whose_material_expired_can_be_neither_enabled_nor_disabled(kms, tmp_path, clock):
    """As AWS: the key is PendingImport once its material expires, and EnableKey and
    DisableKey refuse a key in PendingImport."""
    key = external_key(kms)
    valid_to = (clock.now + dt.timedelta(hours=1)).replace(microsecond=0)
    r = import_material(kms, key, tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_EXPIRES", "--valid-to", valid_to.isoformat())
    assert r.status == 0, r.stderr
    clock.now = valid_to + dt.timedelta(seconds=1)
    for command in ("disable-key", "enable-key"):
        r = kms(command, "--key-id", key)
        assert r.status == 3 and "KMSInvalidStateException" in r.stderr and "is pending import." in r.stderr, command
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "PendingImport"


def test_expired_token_is_its_own_error(kms, tmp_path, clock):
    key = external_key(kms)
    token = base64.b64decode(parameters(kms, key, tmp_path)["ImportToken"])
    material = wrap(tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256")
    clock.now += dt.timedelta(hours=24, seconds=1)
    r = _import(kms, key, token, material)
    assert r.status == 3
    assert "ExpiredImportTokenException" in r.stderr
    clock.now -= dt.timedelta(seconds=2)
    assert _import(kms, key, token, material).status == 0


def test_expired_material_makes_the_key_pending_import(kms, tmp_path, clock):
    key = external_key(kms)
    material = os.urandom(32)
    valid_to = (clock.now + dt.timedelta(hours=1)).replace(microsecond=0)
    r = import_material(kms, key, tmp_path, material, "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_EXPIRES", "--valid-to", valid_to.isoformat())
    assert r.status == 0, r.stderr
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["KeyState"] == "Enabled"
    assert meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert dt.datetime.fromisoformat(meta["ValidTo"]) == valid_to
    blob = kms("encrypt", "--key-id", key, "--plaintext", "before expiry").json()["CiphertextBlob"]

    clock.now = valid_to + dt.timedelta(seconds=1)
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport"
    assert meta["Enabled"] is False
    for args in (("encrypt", "--key-id", key, "--plaintext", "x"), ("decrypt", "--ciphertext-blob", blob)):
        r = kms(*args)
        assert r.status == 3
        assert "KMSInvalidStateException" in r.stderr and "is pending import." in r.stderr

    # Re-importing the same material (epoch seconds, as aws-cli also takes) brings it back.
    later = int((clock.now + dt.timedelta(days=30)).timestamp())
    r = import_material(kms, key, tmp_path, material, "RSAES_OAEP_SHA_256", "RSA_2048", "--valid-to", str(later))
    assert r.status == 0, r.stderr
    assert base64.b64decode(kms("decrypt", "--ciphertext-blob", blob).json()["Plaintext"]) == b"before expiry"


def test_imported_mldsa_key_signs(kms, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import mldsa

    private = mldsa.MLDSA44PrivateKey.generate()
    key = external_key(kms, "ML_DSA_44")
    assert import_material(kms, key, tmp_path, pkcs8(private), "RSAES_OAEP_SHA_256").status == 0
    sig = kms("sign", "--key-id", key, "--message", "pq", "--signing-algorithm", "ML_DSA_SHAKE_256").json()["Signature"]
    private.public_key().verify(base64.b64decode(sig), b"pq")
