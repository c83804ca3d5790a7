"""Key rotation: schedules, on-demand rotations, listing, and old ciphertexts after many
rotations."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from conftest import create_key
from lifecycle_util import T0, at, blob_material_id, key_file, refused, silent_ok, snapshot


def current_material(kms, key):
    return kms("describe-key", "--key-id", key).json()["KeyMetadata"]["CurrentKeyMaterialId"]


def test_rotation_status_enable_disable(kms):
    key = create_key(kms)
    arn = f"arn:aws:kms:local:000000000000:key/{key}"
    assert kms("get-key-rotation-status", "--key-id", key).json() == {"KeyRotationEnabled": False, "KeyId": arn}
    silent_ok(kms("enable-key-rotation", "--key-id", key, env=at(0)))
    assert kms("get-key-rotation-status", "--key-id", key).json() == {
        "KeyRotationEnabled": True,
        "KeyId": arn,
        "RotationPeriodInDays": 365,
        "NextRotationDate": (T0 + dt.timedelta(days=365)).isoformat(),
    }
    silent_ok(kms("disable-key-rotation", "--key-id", key))
    assert kms("get-key-rotation-status", "--key-id", key).json() == {"KeyRotationEnabled": False, "KeyId": arn}


@pytest.mark.parametrize("days, ok", [("89", False), ("90", True), ("2560", True), ("2561", False)])
def test_rotation_period_bounds(kms, keyring_env, days, ok):
    key = create_key(kms)
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    r = kms("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", days, env=at(0))
    if ok:
        silent_ok(r)
        status = kms("get-key-rotation-status", "--key-id", key).json()
        assert status["RotationPeriodInDays"] == int(days)
        assert status["NextRotationDate"] == (T0 + dt.timedelta(days=int(days))).isoformat()
    else:
        refused(r, "ValidationException", 2)
        assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before


def test_changing_the_period_keeps_the_schedule_start(kms):
    key = create_key(kms)
    silent_ok(kms("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "365", env=at(0)))
    silent_ok(kms("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "365", env=at(100)))
    status = kms("get-key-rotation-status", "--key-id", key).json()
    assert status["NextRotationDate"] == (T0 + dt.timedelta(days=365)).isoformat()  # not postponed
    silent_ok(kms("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "180", env=at(100)))
    status = kms("get-key-rotation-status", "--key-id", key).json()
    assert status["NextRotationDate"] == (T0 + dt.timedelta(days=180)).isoformat()


@pytest.mark.parametrize("spec, usage", [("HMAC_256", None), ("ECC_NIST_P256", "SIGN_VERIFY"), ("RSA_2048", "ENCRYPT_DECRYPT")])
def test_only_symmetric_encryption_keys_rotate(kms, spec, usage):
    key = create_key(kms, spec, usage)
    for command in ("enable-key-rotation", "disable-key-rotation", "get-key-rotation-status", "rotate-key-on-demand", "list-key-rotations"):
        refused(kms(command, "--key-id", key), "UnsupportedOperationException")


def test_ciphertexts_from_before_several_rotations_decrypt(kms):
    key = create_key(kms)
    first = current_material(kms, key)
    blobs = []
    materials = [first]
    for i in range(4):
        blob = kms("encrypt", "--key-id", key, "--plaintext", f"message {i}", "--encryption-context", "n=" + str(i)).json()
        assert blob_material_id(blob["CiphertextBlob"]) == materials[-1]  # new ciphertexts use the newest
        blobs.append(blob["CiphertextBlob"])
        assert kms("rotate-key-on-demand", "--key-id", key).json() == {"KeyId": f"arn:aws:kms:local:000000000000:key/{key}"}
        materials.append(current_material(kms, key))
    assert len(set(materials)) == 5
    for i, blob in enumerate(blobs):
        out = kms("decrypt", "--ciphertext-blob", blob, "--encryption-context", f"n={i}").json()
        assert base64.b64decode(out["Plaintext"]) == f"message {i}".encode()
    # the wrong context still fails on an old material: rotation weakens nothing
    refused(kms("decrypt", "--ciphertext-blob", blobs[0], "--encryption-context", "n=9"), "InvalidCiphertextException")
    newest = kms("encrypt", "--key-id", key, "--plaintext", "x").json()["CiphertextBlob"]
    assert blob_material_id(newest) == materials[-1]


def test_list_key_rotations(kms):
    key = create_key(kms)
    assert kms("list-key-rotations", "--key-id", key).json() == {"Rotations": [], "Truncated": False}
    kms("rotate-key-on-demand", "--key-id", key, env=at(1)).json()
    kms("rotate-key-on-demand", "--key-id", key, env=at(2)).json()
    kms("rotate-key-on-demand", "--key-id", key, env=at(3)).json()
    listing = kms("list-key-rotations", "--key-id", key).json()
    assert listing["Truncated"] is False
    rotations = listing["Rotations"]
    assert [r["RotationDate"] for r in rotations] == [(T0 + dt.timedelta(days=d)).isoformat() for d in (1, 2, 3)]
    assert {r["RotationType"] for r in rotations} == {"ON_DEMAND"}
    assert {r["KeyId"] for r in rotations} == {key}
    assert [r["KeyMaterialState"] for r in rotations] == ["NON_CURRENT", "NON_CURRENT", "CURRENT"]
    assert rotations[-1]["KeyMaterialId"] == current_material(kms, key)
    page = kms("list-key-rotations", "--key-id", key, "--limit", "2").json()
    assert page["Rotations"] == rotations[:2] and page["Truncated"] is True
    rest = kms("list-key-rotations", "--key-id", key, "--limit", "2", "--marker", page["NextMarker"]).json()
    assert rest == {"Rotations": rotations[2:], "Truncated": False}
    refused(kms("list-key-rotations", "--key-id", key, "--marker", "nope"), "InvalidMarkerException", 2)
    refused(kms("list-key-rotations", "--key-id", key, "--limit", "1001"), "ValidationException", 2)


def test_twenty_five_on_demand_rotations_at_most(kms, keyring_env):
    key = create_key(kms)
    blob = kms("encrypt", "--key-id", key, "--plaintext", "before all").json()["CiphertextBlob"]
    for _ in range(25):
        assert kms("rotate-key-on-demand", "--key-id", key).status == 0
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    r = kms("rotate-key-on-demand", "--key-id", key)
    refused(r, "LimitExceededException")
    assert "enable-key-rotation" in r.stderr
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before
    assert len(kms("list-key-rotations", "--key-id", key).json()["Rotations"]) == 25
    assert base64.b64decode(kms("decrypt", "--ciphertext-blob", blob).json()["Plaintext"]) == b"before all"


def test_rotation_state_rules(kms):
    key = create_key(kms)
    silent_ok(kms("disable-key", "--key-id", key))
    refused(kms("rotate-key-on-demand", "--key-id", key), "DisabledException")
    refused(kms("enable-key-rotation", "--key-id", key), "DisabledException")
    assert kms("get-key-rotation-status", "--key-id", key).json()["KeyRotationEnabled"] is False
    assert kms("list-key-rotations", "--key-id", key).json()["Rotations"] == []


def test_rotation_reads_need_no_passphrase_writes_do(kms):
    key = create_key(kms)
    kms("rotate-key-on-demand", "--key-id", key).json()
    locked = {"KMSCLI_PASSPHRASE": None}
    assert kms("get-key-rotation-status", "--key-id", key, env=locked).json()["KeyRotationEnabled"] is False
    assert len(kms("list-key-rotations", "--key-id", key, env=locked).json()["Rotations"]) == 1
    refused(kms("rotate-key-on-demand", "--key-id", key, env=locked), "KeyringLockedException", 4)
    refused(kms("enable-key-rotation", "--key-id", key, env=locked), "KeyringLockedException", 4)


def test_failed_rotation_leaves_the_prior_state(kms, keyring_env, monkeypatch):
    """A write that fails (disk full, say) after the new material was made and wrapped
    changes nothing: same file, same current material, old ciphertexts decrypt."""
    from kmscli.errors import FileAccessException
    from kmscli.keyring import store

    key = create_key(kms)
    blob = kms("encrypt", "--key-id", key, "--plaintext", "kept").json()["CiphertextBlob"]
    material = current_material(kms, key)
    path = key_file(Path(keyring_env["KMSCLI_KEYRING"]), key)
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))

    real = store.atomic_write

    def failing(target, data, **kw):
        if Path(target) == path:
            raise FileAccessException(f"cannot write {target}: No space left on device")
        return real(target, data, **kw)

    monkeypatch.setattr(store, "atomic_write", failing)
    refused(kms("rotate-key-on-demand", "--key-id", key), "FileAccessException", 5)
    monkeypatch.setattr(store, "atomic_write", real)
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before
    assert current_material(kms, key) == material
    assert kms("list-key-rotations", "--key-id", key).json()["Rotations"] == []
    assert base64.b64decode(kms("decrypt", "--ciphertext-blob", blob).json()["Plaintext"]) == b"kept"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_failed_wrap_leaves_the_prior_state(kms, keyring_env, monkeypatch):
    from kmscli.errors import KeyringDamagedException
    from kmscli.keyring import Keyring

    key = create_key(kms)
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))

    def broken(self, meta, material_id, material):
        raise KeyringDamagedException("key material did not survive wrapping")

    monkeypatch.setattr(Keyring, "wrap_material", broken)
    refused(kms("rotate-key-on-demand", "--key-id", key), "KeyringDamagedException", 5)
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before
