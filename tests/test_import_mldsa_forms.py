"""ML-DSA private keys in every PKCS #8 form (issue 11), and material over 4096 bytes.

RFC 9881 gives three forms: seed, expanded, both. kmscli accepts the seed form and the
"both" form (after checking that its expanded key belongs to its seed), and refuses the
expanded-only form with an exact IncorrectKeyMaterialException: kmscli keeps seeds, as
cryptography does, and an expanded key holds none. The expanded keys are made by dilithium-py,
an independent FIPS 204 implementation. ML-DSA-87's "both" form is 4,962 bytes: wrapped in one
piece it imports; wrapped by `openssl enc` (which wraps 4096-byte pieces separately) it is
refused with an error that says so, not a bare InvalidCiphertextException."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from dilithium_py.ml_dsa import ML_DSA_44, ML_DSA_87

from conftest import create_key
from test_import import openssl_oaep, parameters

ALG_OID = {"ML_DSA_44": "0609608648016503040311", "ML_DSA_87": "0609608648016503040313"}
IMPLEMENTATIONS = {"ML_DSA_44": (ML_DSA_44, mldsa.MLDSA44PrivateKey), "ML_DSA_87": (ML_DSA_87, mldsa.MLDSA87PrivateKey)}


def tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 128 else bytes([0x81, n]) if n < 256 else bytes([0x82, n >> 8, n & 255])
    return bytes([tag]) + length + body


def pkcs8(spec: str, form: str, seed: bytes, *, other_expanded: bool = False) -> bytes:
    ours, _ = IMPLEMENTATIONS[spec]
    _, expanded = ours._keygen_internal(os.urandom(32) if other_expanded else seed)
    inner = {
        "seed": tlv(0x80, seed),
        "expanded": tlv(0x04, expanded),
        "both": tlv(0x30, tlv(0x04, seed) + tlv(0x04, expanded)),
    }[form]
    algorithm = tlv(0x30, bytes.fromhex(ALG_OID[spec]))
    return tlv(0x30, bytes.fromhex("020100") + algorithm + tlv(0x04, inner))


def import_wrapped(kms, key, tmp_path, material: bytes, *, openssl_pieces: bool = False):
    parameters(kms, key, tmp_path, "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048")
    aes = os.urandom(32)
    (tmp_path / "aes-key.bin").write_bytes(aes)
    (tmp_path / "material.bin").write_bytes(material)
    if openssl_pieces:  # AWS's documented command
        subprocess.run(["openssl", "enc", "-id-aes256-wrap-pad", "-K", aes.hex(), "-iv", "A65959A6",
                        "-in", tmp_path / "material.bin", "-out", tmp_path / "wrapped.bin"], check=True)
        wrapped = (tmp_path / "wrapped.bin").read_bytes()
    else:
        wrapped = aes_key_wrap_with_padding(aes, material)
    openssl_oaep(tmp_path, tmp_path / "aes-key.bin", tmp_path / "aes-key-wrapped.bin", "sha256")
    (tmp_path / "EncryptedKeyMaterial.bin").write_bytes((tmp_path / "aes-key-wrapped.bin").read_bytes() + wrapped)
    return kms("import-key-material", "--key-id", key,
               "--import-token-file", tmp_path / "ImportToken.bin",
               "--encrypted-key-material-file", tmp_path / "EncryptedKeyMaterial.bin",
               "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE")


def external(kms, spec):
    return create_key(kms, spec, "SIGN_VERIFY", "--origin", "EXTERNAL")


@pytest.mark.parametrize("spec", ["ML_DSA_44", "ML_DSA_87"])
@pytest.mark.parametrize("form", ["seed", "both"])
def test_seed_and_both_forms_import_and_sign_as_the_seed(kms, tmp_path, spec, form):
    seed = os.urandom(32)
    key = external(kms, spec)
    material = pkcs8(spec, form, seed)
    r = import_wrapped(kms, key, tmp_path, material)
    assert r.status == 0, r.stderr
    sig = base64.b64decode(kms("sign", "--key-id", key, "--message", "m", "--signing-algorithm",
                               "ML_DSA_SHAKE_256").json()["Signature"])
    ours, theirs = IMPLEMENTATIONS[spec]
    public = theirs.from_seed_bytes(seed).public_key().public_bytes_raw()
    assert ours.verify(public, b"m", sig)  # the independent implementation agrees


def test_the_expanded_only_form_is_refused_exactly(kms, tmp_path):
    key = external(kms, "ML_DSA_87")
    material = pkcs8("ML_DSA_87", "expanded", os.urandom(32))
    assert len(material) == 4924  # the size in issue 11
    r = import_wrapped(kms, key, tmp_path, material)
    assert r.status == 3, r.stderr
    assert "IncorrectKeyMaterialException: an expanded-only ML_DSA_87 private key cannot be imported" in r.stderr
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "PendingImport"


def test_a_both_form_whose_expanded_key_is_another_keys_is_refused(kms, tmp_path):
    key = external(kms, "ML_DSA_44")
    r = import_wrapped(kms, key, tmp_path, pkcs8("ML_DSA_44", "both", os.urandom(32), other_expanded=True))
    assert r.status == 3 and "IncorrectKeyMaterialException" in r.stderr


def test_material_over_4096_bytes_wrapped_by_openssl_enc_gets_an_exact_error(kms, tmp_path):
    key = external(kms, "ML_DSA_87")
    material = pkcs8("ML_DSA_87", "both", os.urandom(32))
    assert len(material) > 4096
    r = import_wrapped(kms, key, tmp_path, material, openssl_pieces=True)
    assert r.status != 0
    assert "wrapped in separate 4096-byte pieces" in r.stderr
    assert import_wrapped(kms, key, tmp_path, material).status == 0
