"""generate-data-key[-pair][-without-plaintext] and generate-random: AWS's bounds, and data
keys whose encrypted copy decrypts to the plaintext returned."""

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import caller, create_key, make_keyring, run_in_process
from kmscli import specs


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    """One keyring for the module, with the keys the tests share (creating keys costs)."""
    call = caller(make_keyring(tmp_path_factory.mktemp("datakeys") / "keyring"))
    call.symmetric = create_key(call)
    call.rsa = create_key(call, "RSA_2048", "ENCRYPT_DECRYPT")
    call.hmac = create_key(call, "HMAC_256")
    return call


def b64(text):
    return base64.b64decode(text)


def decrypt(ring, blob: bytes, *context):
    args = ["decrypt", "--ciphertext-blob", base64.b64encode(blob).decode()]
    for pair in context:
        args += ["--encryption-context", pair]
    return ring(*args)


def current_material_id(ring):
    return ring("describe-key", "--key-id", ring.symmetric).json()["KeyMetadata"]["CurrentKeyMaterialId"]


# --- generate-data-key -------------------------------------------------------------------------


@pytest.mark.parametrize("key_spec,size", [("AES_256", 32), ("AES_128", 16)])
def test_data_key_decrypts_to_its_plaintext(ring, key_spec, size):
    r = ring("generate-data-key", "--key-id", ring.symmetric, "--key-spec", key_spec, "--encryption-context", "app=db")
    result = r.json()
    assert set(result) == {"CiphertextBlob", "Plaintext", "KeyId", "KeyMaterialId"}
    assert result["KeyId"] == f"arn:aws:kms:local:000000000000:key/{ring.symmetric}"
    assert result["KeyMaterialId"] == current_material_id(ring)
    plaintext = b64(result["Plaintext"])
    assert len(plaintext) == size
    opened = decrypt(ring, b64(result["CiphertextBlob"]), "app=db").json()
    assert b64(opened["Plaintext"]) == plaintext
    assert opened["KeyId"] == result["KeyId"]
    assert opened["KeyMaterialId"] == result["KeyMaterialId"]


def test_data_key_needs_its_encryption_context(ring):
    blob = ring("generate-data-key", "--key-id", ring.symmetric, "--key-spec", "AES_256", "--encryption-context", "app=db").json()["CiphertextBlob"]
    r = decrypt(ring, b64(blob))
    assert r.status == 3
    assert "InvalidCiphertextException" in r.stderr
    assert r.stdout == b""


@pytest.mark.parametrize("command", ["generate-data-key", "generate-data-key-without-plaintext"])
@pytest.mark.parametrize("n,ok", [(0, False), (1, True), (1024, True), (1025, False)])
def test_number_of_bytes_bounds(ring, command, n, ok):
    r = ring(command, "--key-id", ring.symmetric, "--number-of-bytes", n)
    if ok:
        result = r.json()
        blob = b64(result["CiphertextBlob"])
        plaintext = b64(decrypt(ring, blob).json()["Plaintext"])
        assert len(plaintext) == n
        if command == "generate-data-key":
            assert b64(result["Plaintext"]) == plaintext
        else:
            assert "Plaintext" not in result
    else:
        assert r.status == 2
        assert r.stdout == b""
        assert f"ValidationException: 1 validation error detected: Value '{n}' at 'numberOfBytes'" in r.stderr


@pytest.mark.parametrize("command", ["generate-data-key", "generate-data-key-without-plaintext"])
@pytest.mark.parametrize("args", [[], ["--key-spec", "AES_256", "--number-of-bytes", "32"]])
def test_exactly_one_of_key_spec_and_number_of_bytes(ring, command, args):
    r = ring(command, "--key-id", ring.symmetric, *args)
    assert r.status == 2
    assert r.stdout == b""
    assert "exactly one of KeySpec" in r.stderr


def test_data_key_spec_outside_the_catalogue_is_refused(ring):
    r = ring("generate-data-key", "--key-id", ring.symmetric, "--key-spec", "AES_512")
    assert r.status == 2
    assert r.stdout == b""


@pytest.mark.parametrize("which", ["rsa", "hmac"])
@pytest.mark.parametrize(
    "command,extra",
    [
        ("generate-data-key", ["--key-spec", "AES_256"]),
        ("generate-data-key-without-plaintext", ["--key-spec", "AES_256"]),
        ("generate-data-key-pair", ["--key-pair-spec", "ECC_NIST_P256"]),
        ("generate-data-key-pair-without-plaintext", ["--key-pair-spec", "ECC_NIST_P256"]),
    ],
)
def test_only_symmetric_keys_protect_data_keys(ring, which, command, extra):
    r = ring(command, "--key-id", getattr(ring, which), *extra)
    assert r.status == 3
    assert "InvalidKeyUsageException" in r.stderr
    assert r.stdout == b""


def test_data_key_out_writes_the_plaintext_and_prints_the_rest(ring, tmp_path):
    out = tmp_path / "data.key"
    result = ring("generate-data-key", "--key-id", ring.symmetric, "--key-spec", "AES_256", "--out", out).json()
    assert set(result) == {"CiphertextBlob", "KeyId", "KeyMaterialId"}
    assert out.read_bytes() == b64(decrypt(ring, b64(result["CiphertextBlob"])).json()["Plaintext"])
    assert len(out.read_bytes()) == 32
    assert out.stat().st_mode & 0o777 == 0o600


def test_data_key_without_plaintext_out_writes_the_ciphertext(ring, tmp_path):
    out = tmp_path / "data.key.enc"
    result = ring("generate-data-key-without-plaintext", "--key-id", ring.symmetric, "--number-of-bytes", "24", "--out", out).json()
    assert set(result) == {"KeyId", "KeyMaterialId"}
    r = ring("decrypt", "--in", out)
    assert len(b64(r.json()["Plaintext"])) == 24


# --- generate-data-key-pair ------------------------------------------------------------------------

PAIR_SPECS = [s for s in specs.DATA_KEY_PAIR_SPECS if not specs.KEY_SPECS[s].unsupported]


def _public_der(private_key):
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _check_type(private_key, spec_name):
    spec = specs.KEY_SPECS[spec_name]
    if spec.family == "RSA":
        assert isinstance(private_key, rsa.RSAPrivateKey)
        assert private_key.key_size == spec.size
    elif spec.family == "ECC":
        assert isinstance(private_key, ec.EllipticCurvePrivateKey)
        assert private_key.curve.name == spec.curve
    else:
        assert isinstance(private_key, ed25519.Ed25519PrivateKey)


@pytest.mark.parametrize("pair_spec", PAIR_SPECS)
def test_data_key_pair_private_key_matches_public_key(ring, pair_spec):
    r = ring("generate-data-key-pair", "--key-id", ring.symmetric, "--key-pair-spec", pair_spec, "--encryption-context", "use=tls")
    result = r.json()
    assert set(result) == {"PrivateKeyCiphertextBlob", "PrivateKeyPlaintext", "PublicKey", "KeyId", "KeyPairSpec", "KeyMaterialId"}
    assert result["KeyPairSpec"] == pair_spec
    assert result["KeyMaterialId"] == current_material_id(ring)
    private_der = b64(result["PrivateKeyPlaintext"])
    # PKCS #8 DER, read by an independent loader
    private_key = serialization.load_der_private_key(private_der, password=None)
    _check_type(private_key, pair_spec)
    assert _public_der(private_key) == b64(result["PublicKey"])
    serialization.load_der_public_key(b64(result["PublicKey"]))
    opened = decrypt(ring, b64(result["PrivateKeyCiphertextBlob"]), "use=tls").json()
    assert b64(opened["Plaintext"]) == private_der


def test_data_key_pair_without_plaintext(ring):
    result = ring("generate-data-key-pair-without-plaintext", "--key-id", ring.symmetric, "--key-pair-spec", "ECC_NIST_EDWARDS25519").json()
    assert set(result) == {"PrivateKeyCiphertextBlob", "PublicKey", "KeyId", "KeyPairSpec", "KeyMaterialId"}
    private_der = b64(decrypt(ring, b64(result["PrivateKeyCiphertextBlob"])).json()["Plaintext"])
    private_key = serialization.load_der_private_key(private_der, password=None)
    assert _public_der(private_key) == b64(result["PublicKey"])


def test_data_key_pair_out_writes_the_private_key(ring, tmp_path):
    out = tmp_path / "client.p8.der"
    result = ring("generate-data-key-pair", "--key-id", ring.symmetric, "--key-pair-spec", "ECC_NIST_P384", "--out", out).json()
    assert "PrivateKeyPlaintext" not in result
    private_key = serialization.load_der_private_key(out.read_bytes(), password=None)
    assert _public_der(private_key) == b64(result["PublicKey"])


@pytest.mark.parametrize("pair_spec", ["SM2", "RSA_1024", "ML_DSA_44", "SYMMETRIC_DEFAULT"])
def test_key_pair_specs_outside_the_list_are_refused(ring, pair_spec):
    r = ring("generate-data-key-pair", "--key-id", ring.symmetric, "--key-pair-spec", pair_spec)
    assert r.status == 2
    assert r.stdout == b""


# --- generate-random ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 32, 1024])
def test_generate_random_lengths(n, tmp_path):
    # No keyring and no passphrase: GenerateRandom involves no secret.
    env = {"KMSCLI_KEYRING": str(tmp_path / "nowhere")}
    first = run_in_process(["generate-random", "--number-of-bytes", n], env=env)
    assert len(b64(first.json()["Plaintext"])) == n
    raw = run_in_process(["generate-random", "--number-of-bytes", n, "--out", "-"], env=env)
    assert raw.status == 0
    assert len(raw.stdout) == n
    if n >= 32:
        assert raw.stdout != b64(first.json()["Plaintext"])


@pytest.mark.parametrize("n", [0, 1025, -1])
def test_generate_random_bounds(n):
    r = run_in_process(["generate-random", "--number-of-bytes", n])
    assert r.status == 2
    assert r.stdout == b""
    assert f"ValidationException: 1 validation error detected: Value '{n}' at 'numberOfBytes'" in r.stderr


def test_generate_random_out_into_a_fifo_is_refused_and_keeps_the_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    r = run_in_process(["generate-random", "--number-of-bytes", 16, "--out", fifo])
    assert r.status == 2 and "is a FIFO" in r.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
