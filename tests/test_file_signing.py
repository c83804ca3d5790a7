"""sign / verify over files of any size, checked against openssl both ways, and verify
--public-key offline (no keyring, no passphrase)."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest
from conftest import caller, make_keyring, run_in_process

NO_KEYRING = {"KMSCLI_PASSPHRASE": None, "KMSCLI_KEYRING": "/nonexistent/kmscli-keyring"}

# (kmscli algorithm, openssl dgst options)
OPENSSL = {
    "RSASSA_PSS_SHA_256": ["-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"],
    "RSASSA_PSS_SHA_512": ["-sha512", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"],
    "RSASSA_PKCS1_V1_5_SHA_256": ["-sha256"],
    "RSASSA_PKCS1_V1_5_SHA_384": ["-sha384"],
    "ECDSA_SHA_256": ["-sha256"],
}


def openssl(*args, input=None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], input=input, capture_output=True)


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    d = tmp_path_factory.mktemp("signing")
    kms = caller(make_keyring(d / "keyring"))

    def key(spec):
        key_id = kms("create-key", "--key-spec", spec, "--key-usage", "SIGN_VERIFY").json()["KeyMetadata"]["KeyId"]
        pem = d / f"{spec}.pem"
        assert kms("get-public-key", "--key-id", key_id, "--out", pem).status == 0
        return key_id, pem

    kms.keys = {"RSA": key("RSA_2048"), "ECC": key("ECC_NIST_P256"), "ED25519": key("ECC_NIST_EDWARDS25519")}
    return kms


def key_for(algorithm: str) -> str:
    return "ECC" if algorithm.startswith("ECDSA") else "RSA"


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "release.tar"
    path.write_bytes(os.urandom(3 << 20) + b"end")
    return path


@pytest.mark.parametrize("algorithm", list(OPENSSL))
def test_openssl_verifies_a_streamed_file_signature(ring, big_file, tmp_path, algorithm):
    key_id, pem = ring.keys[key_for(algorithm)]
    sig = tmp_path / "sig"
    r = ring("sign", "--key-id", key_id, "--in", big_file, "--signing-algorithm", algorithm, "--out", sig)
    assert r.status == 0, r.stderr
    assert set(r.json()) == {"KeyId", "SigningAlgorithm"}  # AWS's shape; the signature went to --out
    r = ring("sign", "--key-id", key_id, "--in", big_file, "--signing-algorithm", algorithm, "--out", sig, "--detail")
    assert r.status == 0, r.stderr
    result = r.json()
    assert "Signature" not in result  # it went to --out
    assert result["MessageType"] == "DIGEST"  # says the file was signed as its digest
    digest = openssl("dgst", OPENSSL[algorithm][0], "-binary", big_file).stdout
    assert base64.b64decode(result["MessageDigest"]) == digest
    v = openssl("dgst", *OPENSSL[algorithm], "-verify", pem, "-signature", sig, big_file)
    assert v.returncode == 0, v.stderr
    assert b"Verified OK" in v.stdout
    # and kmscli, online, over the same file; a changed file is "no" (exit 1)
    r = ring("verify", "--key-id", key_id, "--in", big_file, "--signing-algorithm", algorithm, "--signature-file", sig)
    assert r.status == 0 and r.json()["SignatureValid"] is True
    changed = tmp_path / "changed"
    changed.write_bytes(big_file.read_bytes()[:-1] + b"E")
    r = ring("verify", "--key-id", key_id, "--in", changed, "--signing-algorithm", algorithm, "--signature-file", sig)
    assert r.status == 1 and r.stdout == b"" and "KMSInvalidSignatureException" in r.stderr
    v = openssl("dgst", *OPENSSL[algorithm], "-verify", pem, "-signature", sig, changed)
    assert v.returncode != 0


def test_small_file_keeps_the_raw_path_and_openssl_agrees(ring, tmp_path):
    key_id, pem = ring.keys["RSA"]
    small = tmp_path / "small"
    small.write_bytes(os.urandom(4096))
    r = ring("sign", "--key-id", key_id, "--in", small, "--signing-algorithm", "RSASSA_PSS_SHA_256", "--out", tmp_path / "sig")
    assert r.status == 0, r.stderr
    assert "MessageType" not in r.json()  # an ordinary RAW Sign, as AWS does it
    v = openssl("dgst", *OPENSSL["RSASSA_PSS_SHA_256"], "-verify", pem, "-signature", tmp_path / "sig", small)
    assert v.returncode == 0, v.stderr


def test_stdin_of_any_size_is_streamed(ring, big_file):
    key_id, pem = ring.keys["ECC"]
    r = ring("sign", "--key-id", key_id, "--in", "-", "--signing-algorithm", "ECDSA_SHA_256", "--out", "-", input=big_file.read_bytes())
    assert r.status == 0, r.stderr
    v = openssl("dgst", "-sha256", "-verify", pem, "-signature", "/dev/stdin", big_file, input=r.stdout)
    assert v.returncode == 0, v.stderr


def test_message_keeps_the_aws_limit(ring):
    key_id, _ = ring.keys["RSA"]
    r = ring("sign", "--key-id", key_id, "--message", "x" * 4097, "--signing-algorithm", "RSASSA_PSS_SHA_256")
    assert r.status == 2 and "4096" in r.stderr and r.stdout == b""
    r = ring("sign", "--key-id", key_id, "--message", "x" * 4096, "--signing-algorithm", "RSASSA_PSS_SHA_256")
    assert r.status == 0


def test_ed25519_cannot_stream_a_large_file(ring, big_file, tmp_path):
    key_id, _ = ring.keys["ED25519"]
    r = ring("sign", "--key-id", key_id, "--in", big_file, "--signing-algorithm", "ED25519_SHA_512", "--out", tmp_path / "sig")
    assert r.status == 2 and "ED25519_SHA_512" in r.stderr
    assert "hint: sign it with --signing-algorithm ED25519_PH_SHA_512" in r.stderr
    assert not (tmp_path / "sig").exists()
    small = tmp_path / "small"
    small.write_bytes(b"hello")
    r = ring("sign", "--key-id", key_id, "--in", small, "--signing-algorithm", "ED25519_SHA_512", "--out", tmp_path / "sig")
    assert r.status == 0, r.stderr


def _sha512_file(path, tmp_path):
    import hashlib

    digest = tmp_path / "digest.sha512"
    digest.write_bytes(hashlib.sha512(path.read_bytes()).digest())
    return digest


@pytest.mark.parametrize("size", [5, 4096, 3 << 20])
def test_ed25519ph_signs_a_file_of_any_size_as_its_sha512_digest(ring, tmp_path, size):
    """The release-tarball case: ED25519_PH_SHA_512 over --in FILE is the signature of the
    file's SHA-512 digest (what --message-type DIGEST signs), at every size, and it verifies
    with the keyring and offline, from the file or from its digest."""
    key_id, pem = ring.keys["ED25519"]
    data = tmp_path / "release.tar"
    data.write_bytes(os.urandom(size))
    sig, digest = tmp_path / "sig", _sha512_file(data, tmp_path)
    r = ring("sign", "--key-id", key_id, "--in", data, "--signing-algorithm", "ED25519_PH_SHA_512", "--out", sig, "--detail")
    assert r.status == 0, r.stderr
    assert r.json()["MessageType"] == "DIGEST" and r.json()["MessageDigestAlgorithm"] == "SHA_512"
    common = ["--signing-algorithm", "ED25519_PH_SHA_512", "--signature-file", sig]
    verifiers = {
        "keyring": lambda *args: ring("verify", "--key-id", key_id, *args),
        "offline": lambda *args: run_in_process(["verify", "--public-key", pem, *args], env=NO_KEYRING),
    }
    for verify in verifiers.values():
        for message in (["--in", data], ["--in", digest, "--message-type", "DIGEST"]):
            r = verify(*message, *common)
            assert r.status == 0, r.stderr
            assert r.json()["SignatureValid"] is True
    data.write_bytes(data.read_bytes() + b"!")
    r = run_in_process(["verify", "--public-key", pem, "--in", data, *common], env=NO_KEYRING)
    assert r.status == 1 and r.stdout == b"" and "KMSInvalidSignatureException" in r.stderr


def test_ed25519ph_still_refuses_a_raw_message_literal(ring):
    key_id, _ = ring.keys["ED25519"]
    r = ring("sign", "--key-id", key_id, "--message", "hello", "--signing-algorithm", "ED25519_PH_SHA_512")
    assert r.status == 2 and r.stdout == b""
    assert "ValidationException: MessageType RAW is not valid with ED25519_PH_SHA_512" in r.stderr


# --- offline verification ----------------------------------------------------------------------


def test_offline_verify_needs_no_keyring(ring, big_file, tmp_path):
    key_id, pem = ring.keys["ECC"]
    sig = tmp_path / "sig"
    assert ring("sign", "--key-id", key_id, "--in", big_file, "--signing-algorithm", "ECDSA_SHA_256", "--out", sig).status == 0
    # The PEM lists exactly one algorithm: none needs to be given.
    r = run_in_process(["verify", "--public-key", pem, "--in", big_file, "--signature-file", sig], env=NO_KEYRING)
    assert r.status == 0, r.stderr
    result = r.json()
    assert result["SignatureValid"] is True and result["SigningAlgorithm"] == "ECDSA_SHA_256"
    # The file's KeyId line is a claim anyone can write, not established: not reported.
    assert "KeyId" not in result and "ClaimedKeyId" not in result
    assert not os.path.exists("/nonexistent/kmscli-keyring")
    r = run_in_process(
        ["verify", "--public-key", pem, "--message", "other", "--signature-file", sig], env=NO_KEYRING
    )
    assert r.status == 1 and r.stdout == b"" and "KMSInvalidSignatureException" in r.stderr


def test_offline_verify_does_not_touch_a_locked_or_broken_keyring(ring, tmp_path):
    """Even with a keyring path that is not a keyring, and no passphrase source at all."""
    key_id, pem = ring.keys["RSA"]
    sig = tmp_path / "sig"
    ring("sign", "--key-id", key_id, "--message", "hi", "--signing-algorithm", "RSASSA_PKCS1_V1_5_SHA_256", "--out", sig)
    not_a_keyring = tmp_path / "empty"  # opening it would fail: no keyring.toml, and mode 0777
    not_a_keyring.mkdir()
    not_a_keyring.chmod(0o777)
    env = {"KMSCLI_PASSPHRASE": None, "KMSCLI_KEYRING": str(not_a_keyring)}
    args = ["verify", "--public-key", pem, "--message", "hi", "--signature-file", sig]
    r = run_in_process(args, env=env)
    # The RSA key lists six algorithms: refused with the list, before anything else.
    assert r.status == 2 and "RSASSA_PSS_SHA_256" in r.stderr and "hint: choose one with --signing-algorithm" in r.stderr
    r = run_in_process([*args, "--signing-algorithm", "RSASSA_PKCS1_V1_5_SHA_256"], env=env)
    assert r.status == 0, r.stderr
    r = run_in_process([*args, "--signing-algorithm", "RSASSA_PSS_SHA_256"], env=env)
    assert r.status == 1


def test_offline_verify_refuses_what_the_key_cannot_do(ring, tmp_path):
    _, ecc_pem = ring.keys["ECC"]
    (tmp_path / "sig").write_bytes(b"\x30\x06\x02\x01\x01\x02\x01\x01")
    r = run_in_process(
        ["verify", "--public-key", ecc_pem, "--message", "m", "--signature-file", tmp_path / "sig", "--signing-algorithm", "RSASSA_PSS_SHA_256"],
        env=NO_KEYRING,
    )
    assert r.status == 3 and "InvalidKeyUsageException" in r.stderr
    r = run_in_process(
        ["verify", "--key-id", "x", "--public-key", ecc_pem, "--message", "m", "--signature-file", tmp_path / "sig"], env=NO_KEYRING
    )
    assert r.status == 2 and "exactly one of --key-id and --public-key" in r.stderr


@pytest.fixture(scope="module")
def openssl_keys(tmp_path_factory):
    """Keys openssl generated, their public halves written as kmscli-style PEMs with a
    configuration (as get-public-key --out writes them)."""
    d = tmp_path_factory.mktemp("openssl")
    keys = {}
    for name, genpkey, spec, algorithms in (
        ("rsa", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], "RSA_2048",
         ["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"]),
        ("ec", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "ECC_NIST_P256", ["ECDSA_SHA_256"]),
    ):
        private = d / f"{name}.key"
        assert openssl("genpkey", *genpkey, "-out", private).returncode == 0
        public = openssl("pkey", "-in", private, "-pubout").stdout
        config = (
            f"KeyId: arn:aws:kms:local:000000000000:key/00000000-0000-4000-8000-00000000000{len(keys)}\n"
            f"KeySpec: {spec}\nKeyUsage: SIGN_VERIFY\nSigningAlgorithms: {', '.join(algorithms)}\n"
        ).encode()
        pem = d / f"{name}.pem"
        pem.write_bytes(config + public)
        keys[name] = (private, pem)
    return keys


@pytest.mark.parametrize(
    "key,algorithm",
    [("rsa", "RSASSA_PSS_SHA_256"), ("rsa", "RSASSA_PKCS1_V1_5_SHA_256"), ("ec", "ECDSA_SHA_256")],
)
@pytest.mark.parametrize("size", [100, 4096, 4097, 1 << 20])
def test_offline_verify_accepts_openssl_signatures(openssl_keys, tmp_path, key, algorithm, size):
    private, pem = openssl_keys[key]
    message = tmp_path / "message"
    message.write_bytes(os.urandom(size))
    sig = tmp_path / "sig"
    s = openssl("dgst", *OPENSSL[algorithm], "-sign", private, "-out", sig, message)
    assert s.returncode == 0, s.stderr
    extra = ["--signing-algorithm", algorithm] if key == "rsa" else []
    r = run_in_process(["verify", "--public-key", pem, "--in", message, "--signature-file", sig, *extra], env=NO_KEYRING)
    assert r.status == 0, r.stderr
    assert r.json()["SignatureValid"] is True
    assert "MessageType" not in r.json()  # AWS's Verify shape, whatever the size
    r = run_in_process(["verify", "--public-key", pem, "--in", message, "--signature-file", sig, *extra, "--detail"],
                       env=NO_KEYRING)
    assert ("MessageType" in r.json()) == (size > 4096)  # --detail says how a large file was verified
    message.write_bytes(message.read_bytes()[:-1] + b"\x00" if message.read_bytes()[-1:] != b"\x00" else b"\x01")
    r = run_in_process(["verify", "--public-key", pem, "--in", message, "--signature-file", sig, *extra], env=NO_KEYRING)
    assert r.status == 1 and r.stdout == b""


def test_offline_verify_with_a_pem_without_configuration(openssl_keys, tmp_path):
    private, pem = openssl_keys["ec"]
    bare = tmp_path / "bare.pem"
    bare.write_bytes(openssl("pkey", "-in", private, "-pubout").stdout)
    (tmp_path / "m").write_bytes(b"message")
    openssl("dgst", "-sha256", "-sign", private, "-out", tmp_path / "sig", tmp_path / "m")
    args = ["verify", "--public-key", bare, "--in", tmp_path / "m", "--signature-file", tmp_path / "sig"]
    r = run_in_process(args, env=NO_KEYRING)
    assert r.status == 2 and "give --signing-algorithm" in r.stderr
    r = run_in_process([*args, "--signing-algorithm", "ECDSA_SHA_256"], env=NO_KEYRING)
    assert r.status == 0, r.stderr
    assert "KeyId" not in r.json() and "ClaimedKeyId" not in r.json()
