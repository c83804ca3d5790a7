"""boto3, a client nobody here wrote, against ``kmscli serve``: every operation kmscli offers,
every key spec and usage, AWS's errors as botocore ClientErrors, and boto3's own paginators.
Signatures made through serve are checked by openssl (pycryptodome for Ed25519ph and
``cryptography`` for ML-DSA, which openssl 3.0 lacks) against the key from GetPublicKey."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from kmscli import specs
from kmscli.service.operations import OPERATIONS
from serve_clients import served  # noqa: F401


USAGE_FIELDS = {
    "ENCRYPT_DECRYPT": "EncryptionAlgorithms",
    "SIGN_VERIFY": "SigningAlgorithms",
    "GENERATE_VERIFY_MAC": "MacAlgorithms",
    "KEY_AGREEMENT": "KeyAgreementAlgorithms",
}
PAIRS = [(s.name, u) for s in specs.KEY_SPECS.values() if not s.unsupported for u in s.usages]
SIGNING = [
    (spec, algorithm)
    for spec, usage in PAIRS
    if usage == "SIGN_VERIFY"
    for algorithm in specs.KEY_SPECS[spec].algorithms[usage]
]
HASHES = {"SHA_256": hashlib.sha256, "SHA_384": hashlib.sha384, "SHA_512": hashlib.sha512}
MESSAGE = b"a release manifest signed through kmscli serve\n"

SILENT = {"InvalidCiphertextException", "KMSInvalidSignatureException", "KMSInvalidMacException"}
CARRIED_OUT: set[str] = set()  # operations that returned 200 to boto3 in this module


@pytest.fixture(scope="module")
def kms(served):
    client = served.client()

    def record(http_response, model, **_):
        if http_response.status_code == 200:
            CARRIED_OUT.add(model.name)

    client.meta.events.register("after-call.kms", record)
    return client


class Keys:
    """One key per (spec, usage), made through serve on first use (RSA_4096 takes a while)."""

    def __init__(self, kms):
        self.kms = kms
        self.ids: dict = {}

    def __call__(self, spec: str, usage: str | None = None) -> str:
        usage = usage or specs.KEY_SPECS[spec].default_usage
        if (spec, usage) not in self.ids:
            meta = self.kms.create_key(KeySpec=spec, KeyUsage=usage, Description=f"{spec} {usage}")["KeyMetadata"]
            self.ids[(spec, usage)] = meta["KeyId"]
        return self.ids[(spec, usage)]


@pytest.fixture(scope="module")
def keys(kms):
    return Keys(kms)


def code(excinfo) -> str:
    error = excinfo.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400, error
    # AWS answers these with no message (tests/test_aws_recorded.py); every other error says what failed.
    assert error["Error"]["Message"] or error["Error"]["Code"] in SILENT, error
    return error["Error"]["Code"]


def refused(name: str, call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as excinfo:
        call(*args, **kwargs)
    assert code(excinfo) == name, excinfo.value.response
    return excinfo.value.response["Error"]["Message"]


def openssl(*args, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], input=input, capture_output=True, timeout=60)


def pem_of(kms, key_id: str, tmp_path) -> str:
    """GetPublicKey's DER, turned into a PEM file by openssl (which must be able to read it)."""
    der = kms.get_public_key(KeyId=key_id)["PublicKey"]
    path = tmp_path / f"{key_id}.pem"
    p = openssl("pkey", "-pubin", "-inform", "DER", "-out", path, input=der)
    assert p.returncode == 0, p.stderr
    return str(path)


# --- keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec,usage", PAIRS)
def test_create_key_of_every_spec_and_usage(kms, keys, served, spec, usage):
    key_id = keys(spec, usage)
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"], meta["KeyState"], meta["Enabled"]) == (spec, usage, "Enabled", True)
    assert meta["Arn"].startswith(f"arn:aws:kms:{served.region}:") and meta["Arn"].endswith(f":key/{key_id}")
    assert meta["Origin"] == "AWS_KMS" and meta["KeyManager"] == "CUSTOMER"
    assert meta["Description"] == f"{spec} {usage}"
    assert abs(meta["CreationDate"] - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(hours=1)
    assert meta[USAGE_FIELDS[usage]] == list(specs.KEY_SPECS[spec].algorithms[usage])
    assert {"KeyId": key_id, "KeyArn": meta["Arn"]} in kms.list_keys(Limit=1000)["Keys"]


def test_create_key_refusals(kms):
    assert refused("ValidationException", kms.create_key, KeySpec="HMAC_256", KeyUsage="ENCRYPT_DECRYPT")
    assert refused("ValidationException", kms.create_key, KeySpec="RSA_1024")
    assert refused("ValidationException", kms.create_key, Description="x" * 8193)


def test_update_key_description(kms, keys):
    key = keys("SYMMETRIC_DEFAULT")
    kms.update_key_description(KeyId=key, Description="the backups key")
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["Description"] == "the backups key"
    kms.update_key_description(KeyId=key, Description="SYMMETRIC_DEFAULT ENCRYPT_DECRYPT")


def test_unknown_key_is_not_found(kms):
    for key in (str(uuid.uuid4()), "alias/nothing-here", f"arn:aws:kms:local:000000000000:key/{uuid.uuid4()}"):
        refused("NotFoundException", kms.describe_key, KeyId=key)
        refused("NotFoundException", kms.encrypt, KeyId=key, Plaintext=b"x")


# --- symmetric encryption, data keys, randomness -----------------------------------------------


def test_symmetric_round_trip_and_its_refusals(kms, keys):
    key, other = keys("SYMMETRIC_DEFAULT"), kms.create_key()["KeyMetadata"]["KeyId"]
    context = {"purpose": "backup", "host": "db1"}
    out = kms.encrypt(KeyId=key, Plaintext=b"p" * 4096, EncryptionContext=context)
    assert out["KeyId"].endswith(key) and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = out["CiphertextBlob"]
    back = kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)  # the blob names its key
    assert back["Plaintext"] == b"p" * 4096 and back["KeyId"] == out["KeyId"]
    assert kms.decrypt(CiphertextBlob=blob, KeyId=key, EncryptionContext=context)["Plaintext"] == b"p" * 4096
    refused("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob)
    refused("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext={"purpose": "x"})
    refused("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob[:-1] + bytes([blob[-1] ^ 1]),
            EncryptionContext=context)
    refused("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"not a kms ciphertext")
    refused("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob, KeyId=other, EncryptionContext=context)
    refused("ValidationException", kms.encrypt, KeyId=key, Plaintext=b"p" * 4097)
    refused("InvalidKeyUsageException", kms.encrypt, KeyId=keys("ECC_NIST_P256", "SIGN_VERIFY"), Plaintext=b"x")


def test_re_encrypt(kms, keys):
    source, destination = keys("SYMMETRIC_DEFAULT"), kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=source, Plaintext=b"moving", EncryptionContext={"a": "1"})["CiphertextBlob"]
    out = kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"}, DestinationKeyId=destination,
                         DestinationEncryptionContext={"b": "2"})
    assert out["SourceKeyId"].endswith(source) and out["KeyId"].endswith(destination)
    back = kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"b": "2"})
    assert back["Plaintext"] == b"moving" and back["KeyId"].endswith(destination)
    refused("InvalidCiphertextException", kms.re_encrypt, CiphertextBlob=blob, DestinationKeyId=destination)


def test_data_keys(kms, keys):
    key = keys("SYMMETRIC_DEFAULT")
    out = kms.generate_data_key(KeyId=key, KeySpec="AES_256", EncryptionContext={"file": "a"})
    assert len(out["Plaintext"]) == 32 and out["KeyId"].endswith(key)
    assert kms.decrypt(CiphertextBlob=out["CiphertextBlob"], EncryptionContext={"file": "a"})["Plaintext"] == out["Plaintext"]
    assert len(kms.generate_data_key(KeyId=key, KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=key, NumberOfBytes=1024)["Plaintext"]) == 1024
    blind = kms.generate_data_key_without_plaintext(KeyId=key, NumberOfBytes=64)
    assert "Plaintext" not in blind
    assert len(kms.decrypt(CiphertextBlob=blind["CiphertextBlob"])["Plaintext"]) == 64
    refused("ValidationException", kms.generate_data_key, KeyId=key)
    refused("ValidationException", kms.generate_data_key, KeyId=key, KeySpec="AES_256", NumberOfBytes=32)
    refused("ValidationException", kms.generate_data_key, KeyId=key, NumberOfBytes=1025)


@pytest.mark.parametrize("pair_spec", ["ECC_NIST_P256", "RSA_2048", "ECC_NIST_EDWARDS25519", "ECC_SECG_P256K1"])
def test_data_key_pairs(kms, keys, tmp_path, pair_spec):
    key = keys("SYMMETRIC_DEFAULT")
    out = kms.generate_data_key_pair(KeyId=key, KeyPairSpec=pair_spec, EncryptionContext={"k": "v"})
    assert out["KeyPairSpec"] == pair_spec and out["KeyId"].endswith(key)
    # openssl reads both halves, and they belong together.
    (tmp_path / "private.der").write_bytes(out["PrivateKeyPlaintext"])
    derived = openssl("pkey", "-inform", "DER", "-in", tmp_path / "private.der", "-pubout", "-outform", "DER")
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout == out["PublicKey"]
    wrapped = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext={"k": "v"})
    assert wrapped["Plaintext"] == out["PrivateKeyPlaintext"]
    blind = kms.generate_data_key_pair_without_plaintext(KeyId=key, KeyPairSpec=pair_spec)
    assert "PrivateKeyPlaintext" not in blind and blind["PublicKey"]


def test_generate_random(kms):
    a, b = (kms.generate_random(NumberOfBytes=1024)["Plaintext"] for _ in range(2))
    assert len(a) == len(b) == 1024 and a != b
    refused("ValidationException", kms.generate_random, NumberOfBytes=1025)


# --- RSA encryption -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072", "RSA_4096"])
@pytest.mark.parametrize("algorithm", specs.KEY_SPECS["RSA_2048"].algorithms["ENCRYPT_DECRYPT"])
def test_rsa_encryption_with_openssl(kms, keys, tmp_path, spec, algorithm):
    key = keys(spec, "ENCRYPT_DECRYPT")
    limit = specs.rsa_oaep_max_plaintext(specs.KEY_SPECS[spec], algorithm)
    blob = kms.encrypt(KeyId=key, Plaintext=b"r" * limit, EncryptionAlgorithm=algorithm)["CiphertextBlob"]
    assert len(blob) == specs.KEY_SPECS[spec].size // 8
    assert kms.decrypt(CiphertextBlob=blob, KeyId=key, EncryptionAlgorithm=algorithm)["Plaintext"] == b"r" * limit
    refused("ValidationException", kms.encrypt, KeyId=key, Plaintext=b"r" * (limit + 1), EncryptionAlgorithm=algorithm)
    # Whoever holds the public key encrypts with openssl; serve decrypts.
    pem = pem_of(kms, key, tmp_path)
    md = "sha1" if algorithm.endswith("SHA_1") else "sha256"
    p = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pem, "-pkeyopt", "rsa_padding_mode:oaep",
                "-pkeyopt", f"rsa_oaep_md:{md}", "-pkeyopt", f"rsa_mgf1_md:{md}", input=b"from openssl")
    assert p.returncode == 0, p.stderr
    assert kms.decrypt(CiphertextBlob=p.stdout, KeyId=key, EncryptionAlgorithm=algorithm)["Plaintext"] == b"from openssl"
    refused("InvalidCiphertextException", kms.decrypt, CiphertextBlob=p.stdout,
            KeyId=key, EncryptionAlgorithm=next(a for a in specs.KEY_SPECS[spec].algorithms["ENCRYPT_DECRYPT"]
                                                if a != algorithm))


# --- signatures -------------------------------------------------------------------------------


def _openssl_verifies(pem: str, algorithm: str, message: bytes, signature: bytes, tmp_path) -> bool:
    scheme = specs.SIGNING_ALGORITHMS[algorithm].scheme
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    if scheme in ("ED25519",) or algorithm == "ED25519_SHA_512":
        args = ["pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", pem, "-in", tmp_path / "msg",
                "-sigfile", tmp_path / "sig"]
        p = openssl(*args)
        return p.returncode == 0 and b"Signature Verified Successfully" in p.stdout
    digest = algorithm.rsplit("_", 2)[-2:]
    args = ["dgst", f"-sha{digest[1]}", "-verify", pem, "-signature", tmp_path / "sig"]
    if scheme == "PSS":
        args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
    p = openssl(*args, tmp_path / "msg")
    return p.returncode == 0 and b"Verified OK" in p.stdout


def _hash_of(algorithm: str):
    return HASHES["SHA_" + algorithm.rsplit("_", 1)[-1]]


@pytest.mark.parametrize("spec,algorithm", SIGNING)
def test_signatures_verify_with_an_outside_party(kms, keys, tmp_path, spec, algorithm):
    key = keys(spec, "SIGN_VERIFY")
    family = specs.KEY_SPECS[spec].family
    if algorithm == "ED25519_PH_SHA_512":
        message_type, message = "DIGEST", hashlib.sha512(MESSAGE).digest()
    else:
        message_type, message = "RAW", MESSAGE
    out = kms.sign(KeyId=key, Message=message, MessageType=message_type, SigningAlgorithm=algorithm)
    assert out["KeyId"].endswith(key) and out["SigningAlgorithm"] == algorithm
    signature = out["Signature"]
    ok = kms.verify(KeyId=key, Message=message, MessageType=message_type, Signature=signature,
                    SigningAlgorithm=algorithm)
    assert ok["SignatureValid"] is True
    refused("KMSInvalidSignatureException", kms.verify, KeyId=key, Message=message[:-1] + b"!",
            MessageType=message_type, Signature=signature, SigningAlgorithm=algorithm)

    public = kms.get_public_key(KeyId=key)
    assert (public["KeySpec"], public["KeyUsage"]) == (spec, "SIGN_VERIFY")
    assert public["SigningAlgorithms"] == list(specs.KEY_SPECS[spec].algorithms["SIGN_VERIFY"])
    if family == "ML_DSA":  # openssl 3.0 has no ML-DSA: pyca's verifier over the same DER
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        verifier = load_der_public_key(public["PublicKey"])
        verifier.verify(signature, MESSAGE)
        with pytest.raises(InvalidSignature):
            verifier.verify(signature, MESSAGE + b"!")
    elif algorithm == "ED25519_PH_SHA_512":  # openssl 3.0 has no Ed25519ph: pycryptodome
        from Crypto.Hash import SHA512
        from Crypto.PublicKey import ECC
        from Crypto.Signature import eddsa

        verifier = eddsa.new(ECC.import_key(public["PublicKey"]), "rfc8032")
        verifier.verify(SHA512.new(message), signature)
        with pytest.raises(ValueError):
            verifier.verify(SHA512.new(MESSAGE), signature)
    else:
        pem = pem_of(kms, key, tmp_path)
        assert _openssl_verifies(pem, algorithm, MESSAGE, signature, tmp_path)
        assert not _openssl_verifies(pem, algorithm, MESSAGE + b"!", signature, tmp_path)
        if family == "ED25519":
            return
        # DIGEST: serve signs the caller's digest as is; openssl checks it over the message.
        digest = _hash_of(algorithm)(MESSAGE).digest()
        signed = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm)["Signature"]
        assert _openssl_verifies(pem, algorithm, MESSAGE, signed, tmp_path)


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_65", "ML_DSA_87"])
def test_ml_dsa_external_mu(kms, keys, spec):
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_der_public_key

    key = keys(spec, "SIGN_VERIFY")
    raw = load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"]).public_bytes(Encoding.Raw, PublicFormat.Raw)
    # FIPS 204 Algorithm 2 with an empty context: mu = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64)
    mu = hashlib.shake_256(hashlib.shake_256(raw).digest(64) + b"\x00\x00" + MESSAGE).digest(64)
    signature = kms.sign(KeyId=key, Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    # The signature over mu is a signature over the message it stands for.
    assert kms.verify(KeyId=key, Message=MESSAGE, Signature=signature, SigningAlgorithm="ML_DSA_SHAKE_256")["SignatureValid"]


def test_signing_refusals(kms, keys):
    key = keys("ECC_NIST_P256", "SIGN_VERIFY")
    refused("InvalidKeyUsageException", kms.sign, KeyId=keys("SYMMETRIC_DEFAULT"), Message=b"m",
            SigningAlgorithm="ECDSA_SHA_256")
    refused("InvalidKeyUsageException", kms.sign, KeyId=key, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    refused("ValidationException", kms.sign, KeyId=key, Message=b"short", MessageType="DIGEST",
            SigningAlgorithm="ECDSA_SHA_256")
    refused("ValidationException", kms.sign, KeyId=key, Message=b"m" * 4097, SigningAlgorithm="ECDSA_SHA_256")
    refused("UnsupportedOperationException", kms.get_public_key, KeyId=keys("SYMMETRIC_DEFAULT"))


# --- MACs, key agreement, import ------------------------------------------------------------


@pytest.mark.parametrize("spec", ["HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"])
def test_macs(kms, keys, spec):
    key, algorithm = keys(spec), f"HMAC_SHA_{spec[5:]}"
    mac = kms.generate_mac(KeyId=key, Message=MESSAGE, MacAlgorithm=algorithm)
    assert len(mac["Mac"]) == int(spec[5:]) // 8 and mac["MacAlgorithm"] == algorithm
    assert kms.verify_mac(KeyId=key, Message=MESSAGE, Mac=mac["Mac"], MacAlgorithm=algorithm)["MacValid"] is True
    refused("KMSInvalidMacException", kms.verify_mac, KeyId=key, Message=MESSAGE + b"!", Mac=mac["Mac"],
            MacAlgorithm=algorithm)
    other = "HMAC_SHA_256" if spec != "HMAC_256" else "HMAC_SHA_512"
    refused("InvalidKeyUsageException", kms.generate_mac, KeyId=key, Message=MESSAGE, MacAlgorithm=other)


def test_imported_hmac_material_macs_as_python_hmac(kms, tmp_path):
    """The import operations end to end, wrapped by openssl; the MAC is checked by Python's hmac."""
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")["KeyMetadata"]
    assert key["KeyState"] == "PendingImport"
    params = kms.get_parameters_for_import(KeyId=key["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256",
                                           WrappingKeySpec="RSA_2048")
    assert params["ParametersValidTo"] > dt.datetime.now(dt.timezone.utc)
    (tmp_path / "wrapping.der").write_bytes(params["PublicKey"])
    material = bytes(range(32))
    wrapped = openssl("pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", tmp_path / "wrapping.der",
                      "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                      "-pkeyopt", "rsa_mgf1_md:sha256", input=material)
    assert wrapped.returncode == 0, wrapped.stderr
    kms.import_key_material(KeyId=key["KeyId"], ImportToken=params["ImportToken"],
                            EncryptedKeyMaterial=wrapped.stdout, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    mac = kms.generate_mac(KeyId=key["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(material, MESSAGE, hashlib.sha256).digest()
    kms.delete_imported_key_material(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"
    refused("KMSInvalidStateException", kms.generate_mac, KeyId=key["KeyId"], Message=MESSAGE,
            MacAlgorithm="HMAC_SHA_256")


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"])
def test_derive_shared_secret_agrees_with_openssl(kms, keys, tmp_path, spec):
    key = keys(spec, "KEY_AGREEMENT")
    curve = {"ECC_NIST_P256": "P-256", "ECC_NIST_P384": "P-384", "ECC_NIST_P521": "P-521"}[spec]
    ours = tmp_path / "ours.pem"
    assert openssl("genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}", "-out", ours).returncode == 0
    our_public = openssl("pkey", "-in", ours, "-pubout", "-outform", "DER").stdout
    out = kms.derive_shared_secret(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=our_public)
    assert out["KeyAgreementAlgorithm"] == "ECDH" and out["KeyId"].endswith(key)
    theirs = pem_of(kms, key, tmp_path)
    expected = openssl("pkeyutl", "-derive", "-inkey", ours, "-peerkey", theirs)
    assert expected.returncode == 0, expected.stderr
    assert out["SharedSecret"] == expected.stdout
    refused("InvalidKeyUsageException", kms.derive_shared_secret, KeyId=keys(spec, "SIGN_VERIFY"),
            KeyAgreementAlgorithm="ECDH", PublicKey=our_public)


# --- key state ------------------------------------------------------------------------------------


def test_disable_enable_schedule_cancel(kms):
    key = kms.create_key(Description="state")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"kept")["CiphertextBlob"]
    kms.disable_key(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    refused("DisabledException", kms.encrypt, KeyId=key, Plaintext=b"x")
    refused("DisabledException", kms.decrypt, CiphertextBlob=blob)
    kms.enable_key(KeyId=key)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
    out = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 7
    assert dt.timedelta(days=6) < out["DeletionDate"] - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(days=8)
    refused("KMSInvalidStateException", kms.decrypt, CiphertextBlob=blob)
    assert kms.cancel_key_deletion(KeyId=key)["KeyId"].endswith(key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"  # as AWS leaves it
    kms.enable_key(KeyId=key)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"kept"
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    refused("ValidationException", kms.schedule_key_deletion, KeyId=other, PendingWindowInDays=31)


# --- aliases, tags, rotation --------------------------------------------------------------------


def test_aliases(kms, keys):
    first, second = keys("SYMMETRIC_DEFAULT"), kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/served", TargetKeyId=first)
    blob = kms.encrypt(KeyId="alias/served", Plaintext=b"via alias")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["KeyId"].endswith(first)
    listed = kms.list_aliases(KeyId=first)["Aliases"]
    assert [(a["AliasName"], a["TargetKeyId"]) for a in listed] == [("alias/served", first)]
    assert listed[0]["AliasArn"].endswith(":alias/served")
    refused("AlreadyExistsException", kms.create_alias, AliasName="alias/served", TargetKeyId=second)
    kms.update_alias(AliasName="alias/served", TargetKeyId=second)
    assert kms.describe_key(KeyId="alias/served")["KeyMetadata"]["KeyId"] == second
    kms.delete_alias(AliasName="alias/served")
    refused("NotFoundException", kms.describe_key, KeyId="alias/served")
    refused("NotFoundException", kms.delete_alias, AliasName="alias/served")


def test_tags(kms, keys):
    key = keys("HMAC_256")
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "team", "TagValue": "infra"}, {"TagKey": "env", "TagValue": "dev"}])
    tags = kms.list_resource_tags(KeyId=key)["Tags"]
    assert sorted((t["TagKey"], t["TagValue"]) for t in tags) == [("env", "dev"), ("team", "infra")]
    kms.untag_resource(KeyId=key, TagKeys=["env"])
    assert kms.list_resource_tags(KeyId=key)["Tags"] == [{"TagKey": "team", "TagValue": "infra"}]
    refused("TagException", kms.tag_resource, KeyId=key, Tags=[{"TagKey": "aws:reserved", "TagValue": "x"}])


def test_rotation(kms):
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    before = kms.encrypt(KeyId=key, Plaintext=b"old material")["CiphertextBlob"]
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=180)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180
    assert kms.rotate_key_on_demand(KeyId=key)["KeyId"].endswith(key)
    rotations = kms.list_key_rotations(KeyId=key)["Rotations"]
    assert len(rotations) == 1 and rotations[0]["RotationType"] == "ON_DEMAND"
    assert kms.decrypt(CiphertextBlob=before)["Plaintext"] == b"old material"
    after = kms.encrypt(KeyId=key, Plaintext=b"new material")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=after)["Plaintext"] == b"new material"
    kms.disable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False
    refused("UnsupportedOperationException", kms.enable_key_rotation,
            KeyId=kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"])


def test_key_policies_for_tools_that_read_them(kms):
    """Terraform's aws_kms_key and audit scripts read a key's policy after creating it."""
    import json

    key = kms.create_key()["KeyMetadata"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Action"] == "kms:*"
    assert policy["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{key['AWSAccountId']}:root"
    assert [name for page in kms.get_paginator("list_key_policies").paginate(KeyId=key["Arn"])
            for name in page["PolicyNames"]] == ["default"]
    refused("NotFoundException", kms.get_key_policy, KeyId=key["KeyId"], PolicyName="AWS_RAM")


def test_the_calls_terraforms_aws_kms_key_makes(kms):
    """The requests of Terraform's aws_kms_key without a policy, in its order (the AWS
    provider's internal/service/kms/key.go: create, read, delete), made here with boto3, as
    no terraform binary is at hand: each one answers, the read finds what was made."""
    import json

    key = kms.create_key(BypassPolicyLockoutSafetyCheck=False, KeySpec="SYMMETRIC_DEFAULT",
                         KeyUsage="ENCRYPT_DECRYPT", Tags=[], Description="made by terraform")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True  # its wait for the change
    meta = kms.describe_key(KeyId=key)["KeyMetadata"]  # the read: findKeyInfo
    assert (meta["Description"], meta["Origin"], meta["KeyState"]) == ("made by terraform", "AWS_KMS", "Enabled")
    json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])  # NormalizeJsonString
    assert kms.get_key_rotation_status(KeyId=key)["RotationPeriodInDays"] == 365
    assert kms.list_resource_tags(KeyId=key)["Tags"] == []
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)  # the delete, then its wait
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"


# --- pagination with boto3's own paginators -------------------------------------------------------


def test_paginators_walk_every_page(kms):
    key = kms.create_key(Description="paged")["KeyMetadata"]["KeyId"]
    for n in range(7):
        kms.create_alias(AliasName=f"alias/page-{n}", TargetKeyId=key)
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": f"t{n}", "TagValue": str(n)} for n in range(7)])
    for _ in range(3):
        kms.rotate_key_on_demand(KeyId=key)

    all_keys = kms.list_keys(Limit=1000)
    assert all_keys["Truncated"] is False
    pages = list(kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 3}))
    assert len(pages) >= 3 and all(len(p["Keys"]) <= 3 for p in pages)
    assert all(p["Truncated"] for p in pages[:-1]) and not pages[-1]["Truncated"]
    assert [k for p in pages for k in p["Keys"]] == all_keys["Keys"]

    aliases = kms.get_paginator("list_aliases").paginate(KeyId=key, PaginationConfig={"PageSize": 2})
    names = [a["AliasName"] for page in aliases for a in page["Aliases"]]
    assert sorted(names) == [f"alias/page-{n}" for n in range(7)]

    tags = kms.get_paginator("list_resource_tags").paginate(KeyId=key, PaginationConfig={"PageSize": 3})
    assert sorted(t["TagKey"] for page in tags for t in page["Tags"]) == [f"t{n}" for n in range(7)]

    rotations = kms.get_paginator("list_key_rotations").paginate(KeyId=key, PaginationConfig={"PageSize": 2})
    assert len([r for page in rotations for r in page["Rotations"]]) == 3

    # MaxItems stops early and hands back a token that resumes where it stopped.
    first = kms.get_paginator("list_keys").paginate(PaginationConfig={"MaxItems": 2, "PageSize": 2}).build_full_result()
    rest = kms.get_paginator("list_keys").paginate(
        PaginationConfig={"StartingToken": first["NextToken"], "PageSize": 4}).build_full_result()
    assert first["Keys"] + rest["Keys"] == all_keys["Keys"]
    refused("InvalidMarkerException", kms.list_keys, Marker="not-a-marker")


# --- what kmscli does not offer, and the whole table ---------------------------------------------


def test_an_aws_operation_kmscli_does_not_offer(kms, keys):
    message = refused("UnsupportedOperationException", kms.create_grant, KeyId=keys("SYMMETRIC_DEFAULT"),
                      GranteePrincipal="arn:aws:iam::000000000000:role/x", Operations=["Decrypt"])
    assert "CreateGrant" in message


def test_every_operation_kmscli_offers_was_carried_out_through_serve():
    """Runs last in this module (pytest keeps file order): the table is covered end to end."""
    assert set(OPERATIONS) - CARRIED_OUT == set()
