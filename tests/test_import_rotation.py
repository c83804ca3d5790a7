"""AWS's 2025 import features: several imported materials per symmetric encryption key,
rotated on demand, listed with their import state, deleted one by one; old ciphertexts keep
decrypting under their own material."""

from __future__ import annotations

import base64
import os

from aws_model import check_output
from conftest import create_key
from test_import import import_material


def _ok(r):
    assert r.status == 0, r.stderr
    return r.json() if r.stdout.strip() else {}


def _rotations(kms, key, *extra):
    printed = _ok(kms("list-key-rotations", "--key-id", key, *extra))
    check_output("list-key-rotations", printed)
    return printed["Rotations"]


def _decrypts(kms, blob, text):
    printed = _ok(kms("decrypt", "--ciphertext-blob", blob))
    check_output("decrypt", printed)
    assert base64.b64decode(printed["Plaintext"]) == text.encode()
    return printed["KeyMaterialId"]


def test_imported_material_lifecycle_with_two_rotations(kms, tmp_path):
    key = create_key(kms, "SYMMETRIC_DEFAULT", None, "--origin", "EXTERNAL")
    first, second, third = os.urandom(32), os.urandom(32), os.urandom(32)

    r = import_material(kms, key, tmp_path, first, "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--key-material-description", "first one")
    id1 = _ok(r)["KeyMaterialId"]
    check_output("import-key-material", r.json())
    blob1 = _ok(kms("encrypt", "--key-id", key, "--plaintext", "one"))["CiphertextBlob"]

    # Rotation needs new material first (AWS: PENDING_ROTATION before RotateKeyOnDemand).
    r = kms("rotate-key-on-demand", "--key-id", key)
    assert r.status == 3 and "KMSInvalidStateException" in r.stderr and "NEW_KEY_MATERIAL" in r.stderr
    # Later imports default to EXISTING_KEY_MATERIAL: new bytes are refused without --import-type.
    r = import_material(kms, key, tmp_path, second)
    assert r.status == 3 and "IncorrectKeyMaterialException" in r.stderr
    id2 = _ok(import_material(kms, key, tmp_path, second, "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072",
                              "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--import-type", "NEW_KEY_MATERIAL"))["KeyMaterialId"]
    assert id2 != id1
    every = _rotations(kms, key, "--include-key-material", "ALL_KEY_MATERIAL")
    assert [(m["KeyMaterialId"], m["KeyMaterialState"], m["ImportState"]) for m in every] == [
        (id1, "CURRENT", "IMPORTED"), (id2, "PENDING_ROTATION", "IMPORTED")]
    assert every[0]["KeyMaterialDescription"] == "first one"
    assert "RotationDate" not in every[0] and "RotationType" not in every[1]
    assert _rotations(kms, key) == []  # ROTATIONS_ONLY: nothing rotated yet
    # Still encrypting under the current material until the rotation.
    assert _decrypts(kms, _ok(kms("encrypt", "--key-id", key, "--plaintext", "x"))["CiphertextBlob"], "x") == id1

    check_output("rotate-key-on-demand", _ok(kms("rotate-key-on-demand", "--key-id", key)))
    assert _ok(kms("describe-key", "--key-id", key))["KeyMetadata"]["CurrentKeyMaterialId"] == id2
    blob2 = _ok(kms("encrypt", "--key-id", key, "--plaintext", "two"))["CiphertextBlob"]

    id3 = _ok(import_material(kms, key, tmp_path, third, "RSAES_OAEP_SHA_1", "RSA_2048",
                              "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--import-type", "NEW_KEY_MATERIAL"))["KeyMaterialId"]
    _ok(kms("rotate-key-on-demand", "--key-id", key))
    blob3 = _ok(kms("encrypt", "--key-id", key, "--plaintext", "three"))["CiphertextBlob"]

    # After two rotations each ciphertext decrypts under its own material.
    assert _decrypts(kms, blob1, "one") == id1
    assert _decrypts(kms, blob2, "two") == id2
    assert _decrypts(kms, blob3, "three") == id3
    rotated = _rotations(kms, key)
    assert [(m["KeyMaterialId"], m["KeyMaterialState"], m["RotationType"]) for m in rotated] == [
        (id2, "NON_CURRENT", "ON_DEMAND"), (id3, "CURRENT", "ON_DEMAND")]

    # Deleting an old material: the key waits for it (PendingImport); blob1 cannot decrypt.
    deleted = _ok(kms("delete-imported-key-material", "--key-id", key, "--key-material-id", id1))
    check_output("delete-imported-key-material", deleted)
    assert deleted["KeyMaterialId"] == id1
    assert _ok(kms("describe-key", "--key-id", key))["KeyMetadata"]["KeyState"] == "PendingImport"
    states = {m["KeyMaterialId"]: m["ImportState"] for m in _rotations(kms, key, "--include-key-material", "ALL_KEY_MATERIAL")}
    assert states == {id1: "PENDING_IMPORT", id2: "IMPORTED", id3: "IMPORTED"}
    r = kms("decrypt", "--ciphertext-blob", blob3)
    assert r.status == 3 and "KMSInvalidStateException" in r.stderr
    # Re-importing it, named by its id, restores the key; every ciphertext decrypts again.
    r = import_material(kms, key, tmp_path, first, "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--key-material-id", id1)
    assert _ok(r)["KeyMaterialId"] == id1
    assert _ok(kms("describe-key", "--key-id", key))["KeyMetadata"]["KeyState"] == "Enabled"
    assert [_decrypts(kms, b, t) for b, t in ((blob1, "one"), (blob2, "two"), (blob3, "three"))] == [id1, id2, id3]
    # A KeyMaterialId that is not the material's is refused.
    r = import_material(kms, key, tmp_path, second, "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--key-material-id", id1)
    assert r.status == 3 and "IncorrectKeyMaterialException" in r.stderr


def test_pending_material_can_be_dropped_and_replaced(kms, tmp_path):
    key = create_key(kms, "SYMMETRIC_DEFAULT", None, "--origin", "EXTERNAL")
    _ok(import_material(kms, key, tmp_path, os.urandom(32)))
    new = os.urandom(32)
    extra = ("--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--import-type", "NEW_KEY_MATERIAL")
    pending = _ok(import_material(kms, key, tmp_path, new, "RSAES_OAEP_SHA_256", "RSA_2048", *extra))["KeyMaterialId"]
    r = import_material(kms, key, tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256", "RSA_2048", *extra)
    assert r.status == 3 and "KMSInvalidStateException" in r.stderr  # one pending at a time
    _ok(kms("delete-imported-key-material", "--key-id", key, "--key-material-id", pending))
    assert _ok(kms("describe-key", "--key-id", key))["KeyMetadata"]["KeyState"] == "Enabled"  # never associated
    _ok(import_material(kms, key, tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256", "RSA_2048", *extra))
    r = kms("delete-imported-key-material", "--key-id", key, "--key-material-id", "b" * 64)
    assert r.status == 3 and "NotFoundException" in r.stderr


def test_the_2025_members_are_for_symmetric_keys_only(kms, tmp_path):
    key = create_key(kms, "HMAC_256", None, "--origin", "EXTERNAL")
    r = import_material(kms, key, tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--import-type", "NEW_KEY_MATERIAL")
    assert r.status == 2 and "ValidationException" in r.stderr
    r = kms("rotate-key-on-demand", "--key-id", key)  # the state first, as AWS: it has no material
    assert r.status == 3 and "KMSInvalidStateException" in r.stderr
    _ok(import_material(kms, key, tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE"))
    r = kms("rotate-key-on-demand", "--key-id", key)
    assert r.status == 3 and "UnsupportedOperationException" in r.stderr


def test_a_key_file_from_before_2025_keeps_working(kms, tmp_path, keyring_env):
    """A key imported by an earlier kmscli: one material, the expiration on the metadata only,
    and (after a delete) no CurrentKeyMaterialId. It decrypts, re-imports and rotates."""
    from conftest import PASSPHRASE

    from kmscli.keyring import Keyring

    key = create_key(kms, "SYMMETRIC_DEFAULT", None, "--origin", "EXTERNAL")
    material = os.urandom(32)
    first = _ok(import_material(kms, key, tmp_path, material))["KeyMaterialId"]
    blob = _ok(kms("encrypt", "--key-id", key, "--plaintext", "old"))["CiphertextBlob"]
    keyring = Keyring.open(keyring_env["KMSCLI_KEYRING"], unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    with keyring.transaction():
        doc = keyring.load_key(key, verify=True)
        for entry in doc["materials"]:  # what the earlier kmscli wrote: no per-material fields
            for field in ("ExpirationModel", "ValidTo", "Order", "KeyMaterialDescription"):
                entry.pop(field, None)
        keyring.save_key(doc)
    assert _decrypts(kms, blob, "old") == first
    every = _rotations(kms, key, "--include-key-material", "ALL_KEY_MATERIAL")
    assert [(m["KeyMaterialId"], m["KeyMaterialState"], m["ImportState"]) for m in every] == [(first, "CURRENT", "IMPORTED")]
    # The earlier kmscli's delete dropped CurrentKeyMaterialId; the same bytes bring it back.
    _ok(kms("delete-imported-key-material", "--key-id", key))
    with keyring.transaction():
        doc = keyring.load_key(key, verify=True)
        doc["metadata"].pop("CurrentKeyMaterialId")
        doc.pop("deleted_materials")
        keyring.save_key(doc)
    _ok(import_material(kms, key, tmp_path, material))
    assert _ok(kms("describe-key", "--key-id", key))["KeyMetadata"]["CurrentKeyMaterialId"] == first
    _ok(import_material(kms, key, tmp_path, os.urandom(32), "RSAES_OAEP_SHA_256", "RSA_2048",
                        "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE", "--import-type", "NEW_KEY_MATERIAL"))
    _ok(kms("rotate-key-on-demand", "--key-id", key))
    assert _decrypts(kms, blob, "old") == first
