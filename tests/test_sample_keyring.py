"""Format pinning (STYLE habit 4): the committed keyring of format version 1 still opens.

tests/data/sample-v1 holds a keyring made by tests/data/make_sample_keyring.py (passphrase
in expected.json, scrypt log2 N 10) and what it produced: a symmetric blob with an
encryption context, an RSA-OAEP ciphertext, a MAC and signatures. The COMMITTED files are
what is tested: a change to the keyring layout, the wrapping, the integrity HMAC, the blob
layout or the context encoding that would strand existing keyrings fails here. Do not
regenerate them to make this test pass; a new format version gets a new sample beside this.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import run_in_process
from seed_keys import assert_error, b64, ok_json, unb64

SAMPLE = Path(__file__).resolve().parent / "data" / "sample-v1"
EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
ARN = "arn:aws:kms:local:000000000000:key/{}"


@pytest.fixture
def ring(tmp_path):
    """A private copy: git does not keep 0700/0600, and the test must not touch the sample."""
    copy = tmp_path / "keyring"
    shutil.copytree(SAMPLE / "keyring", copy)
    for dirpath, dirnames, filenames in os.walk(copy):
        os.chmod(dirpath, 0o700)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o600)

    def run(*args, passphrase=EXPECTED["passphrase"]):
        return run_in_process(args, env={"KMSCLI_KEYRING": str(copy), "KMSCLI_PASSPHRASE": passphrase})

    return run


def key(name):
    return EXPECTED["keys"][name]["KeyId"]


def test_the_sample_is_format_version_1_at_log2n_10():
    text = (SAMPLE / "keyring" / "keyring.toml").read_text()
    assert 'format = "kmscli-keyring"' in text and "version = 1" in text and "log2_n = 10" in text
    assert len(list((SAMPLE / "keyring" / "keys").glob("*.toml"))) == len(EXPECTED["keys"])


def test_metadata_reads_without_the_passphrase(ring):
    listed = ok_json(ring("list-keys", passphrase=None))["Keys"]
    assert sorted(k["KeyId"] for k in listed) == sorted(key(n) for n in EXPECTED["keys"])
    for name, want in EXPECTED["keys"].items():
        meta = ok_json(ring("describe-key", "--key-id", want["KeyId"], passphrase=None))["KeyMetadata"]
        want = dict(want)
        if want["KeySpec"] != "SYMMETRIC_DEFAULT":
            # describe-key shows CurrentKeyMaterialId for symmetric keys only, as AWS; the
            # key file still names its current material.
            assert "CurrentKeyMaterialId" not in meta
            key_file = (SAMPLE / "keyring" / "keys" / f"{want['KeyId']}.toml").read_text()
            assert f'CurrentKeyMaterialId = "{want.pop("CurrentKeyMaterialId")}"' in key_file
        assert {k: meta[k] for k in want} == want


def test_the_symmetric_blob_decrypts_with_its_context_and_no_key_id(ring):
    sym = EXPECTED["symmetric"]
    context = [a for k, v in sym["context"].items() for a in ("--encryption-context", f"{k}={v}")]
    result = ok_json(ring("decrypt", "--ciphertext-blob", sym["blob"], *context))
    assert unb64(result["Plaintext"]).decode() == sym["plaintext"]
    assert result["KeyId"] == ARN.format(key("symmetric"))
    r = ring("decrypt", "--ciphertext-blob", sym["blob"], "--encryption-context", "purpose=format pinning")
    assert_error(r, 3, "InvalidCiphertextException")


def test_the_rsa_ciphertext_decrypts(ring):
    oaep = EXPECTED["rsa_oaep_sha_256"]
    r = ring("decrypt", "--key-id", key("rsa_encrypt"), "--ciphertext-blob", oaep["blob"],
             "--encryption-algorithm", "RSAES_OAEP_SHA_256")
    assert unb64(ok_json(r)["Plaintext"]).decode() == oaep["plaintext"]


def test_the_mac_and_signatures_verify(ring):
    message = EXPECTED["message"]
    r = ring("verify-mac", "--key-id", key("hmac"), "--message", message, "--mac-algorithm", "HMAC_SHA_256",
             "--mac", EXPECTED["mac"])
    assert ok_json(r)["MacValid"] is True
    # HMAC is deterministic: the material itself is pinned, not only the verifier.
    r = ring("generate-mac", "--key-id", key("hmac"), "--message", message, "--mac-algorithm", "HMAC_SHA_256")
    assert ok_json(r)["Mac"] == EXPECTED["mac"]
    for algorithm, signature in EXPECTED["signatures"].items():
        name = "ecc_sign" if algorithm.startswith("ECDSA") else "rsa_sign"
        r = ring("verify", "--key-id", key(name), "--message", message, "--signing-algorithm", algorithm,
                 "--signature", signature)
        assert ok_json(r)["SignatureValid"] is True, algorithm


def test_the_public_keys_are_unchanged(ring):
    for name, public in EXPECTED["public_keys"].items():
        assert ok_json(ring("get-public-key", "--key-id", key(name)))["PublicKey"] == public


def test_the_sample_keyring_still_works_for_new_operations(ring):
    blob = ok_json(ring("encrypt", "--key-id", key("symmetric"), "--plaintext", "new"))["CiphertextBlob"]
    assert unb64(ok_json(ring("decrypt", "--ciphertext-blob", blob))["Plaintext"]) == b"new"
    new = ok_json(ring("create-key"))["KeyMetadata"]["KeyId"]
    assert len(ok_json(ring("list-keys"))["Keys"]) == len(EXPECTED["keys"]) + 1
    assert new not in EXPECTED["keys"]


def test_the_sample_refuses_a_wrong_passphrase(ring):
    r = ring("encrypt", "--key-id", key("symmetric"), "--plaintext", "x", passphrase="not the sample passphrase")
    assert_error(r, 4, "IncorrectPassphraseException")


def test_a_damaged_sample_blob_is_refused(ring):
    blob = bytearray(unb64(EXPECTED["symmetric"]["blob"]))
    blob[-1] ^= 1
    context = [a for k, v in EXPECTED["symmetric"]["context"].items() for a in ("--encryption-context", f"{k}={v}")]
    assert_error(ring("decrypt", "--ciphertext-blob", b64(bytes(blob)), *context), 3, "InvalidCiphertextException")


def test_a_keyring_of_before_master_key_rotation_rotates_and_keeps_everything(ring):
    """The committed sample predates master-key ids: it rotates, and its pinned ciphertexts,
    MAC and signatures still hold under the new master key."""
    assert ok_json(ring("rotate-master-key"))["DocumentsRewrapped"] == len(EXPECTED["keys"])
    test_the_symmetric_blob_decrypts_with_its_context_and_no_key_id(ring)
    test_the_rsa_ciphertext_decrypts(ring)
    test_the_mac_and_signatures_verify(ring)
    test_the_public_keys_are_unchanged(ring)
