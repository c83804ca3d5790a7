"""enable-key, disable-key, schedule-key-deletion, cancel-key-deletion: what each state
allows and refuses."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest
from conftest import create_key
from lifecycle_util import T0, at, refused, silent_ok, snapshot


@pytest.fixture
def keys(kms):
    """One key of each family, each with something made under it while Enabled."""
    sym = create_key(kms)
    mac = create_key(kms, "HMAC_256")
    ecc = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    blob = kms("encrypt", "--key-id", sym, "--plaintext", "made while enabled").json()["CiphertextBlob"]
    return {"sym": sym, "mac": mac, "ecc": ecc, "blob": blob}


def crypto_results(kms, keys):
    """Every cryptographic operation on the three keys."""
    return {
        "encrypt": kms("encrypt", "--key-id", keys["sym"], "--plaintext", "x"),
        "decrypt": kms("decrypt", "--ciphertext-blob", keys["blob"]),
        "sign": kms("sign", "--key-id", keys["ecc"], "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"),
        "verify": kms(
            "verify", "--key-id", keys["ecc"], "--message", "m", "--signing-algorithm", "ECDSA_SHA_256",
            "--signature", base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode(),
        ),
        "get-public-key": kms("get-public-key", "--key-id", keys["ecc"]),
        "generate-mac": kms("generate-mac", "--key-id", keys["mac"], "--message", "m", "--mac-algorithm", "HMAC_SHA_256"),
    }


def set_state(kms, keys, command, *extra):
    for name in ("sym", "mac", "ecc"):
        r = kms(command, "--key-id", keys[name], *extra)
        assert r.status == 0, r.stderr


def test_enabled_allows_everything(kms, keys):
    results = crypto_results(kms, keys)
    for op in ("encrypt", "decrypt", "sign", "get-public-key", "generate-mac"):
        assert results[op].status == 0, (op, results[op].stderr)
    assert base64.b64decode(results["decrypt"].json()["Plaintext"]) == b"made while enabled"
    refused(results["verify"], "KMSInvalidSignatureException", 1)  # a real answer: the key was usable


def test_disabled_refuses_every_cryptographic_operation(kms, keys):
    set_state(kms, keys, "disable-key")
    for op, result in crypto_results(kms, keys).items():
        refused(result, "DisabledException")
        assert "enable-key" in result.stderr, op  # the hint names the way back
    meta = kms("describe-key", "--key-id", keys["sym"]).json()["KeyMetadata"]
    assert meta["KeyState"] == "Disabled" and meta["Enabled"] is False
    set_state(kms, keys, "enable-key")
    assert all(r.status in (0, 1) for r in crypto_results(kms, keys).values())
    assert kms("describe-key", "--key-id", keys["sym"]).json()["KeyMetadata"]["Enabled"] is True


def test_enable_and_disable_are_idempotent_and_print_nothing(kms):
    key = create_key(kms)
    silent_ok(kms("enable-key", "--key-id", key))
    silent_ok(kms("disable-key", "--key-id", key))
    silent_ok(kms("disable-key", "--key-id", key))
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "Disabled"


def test_pending_deletion_refuses_every_cryptographic_operation(kms, keys):
    set_state(kms, keys, "schedule-key-deletion")
    for result in crypto_results(kms, keys).values():
        refused(result, "KMSInvalidStateException")
    meta = kms("describe-key", "--key-id", keys["sym"]).json()["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion" and meta["Enabled"] is False
    assert "DeletionDate" in meta
    # AWS shows PendingDeletionWindowInDays only in state PendingReplicaDeletion (multi-Region).
    assert "PendingDeletionWindowInDays" not in meta


def test_schedule_result_and_dates(kms):
    key = create_key(kms)
    r = kms("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7", env=at(0))
    result = r.json()
    assert result == {
        "KeyId": f"arn:aws:kms:local:000000000000:key/{key}",
        "DeletionDate": (T0 + dt.timedelta(days=7)).isoformat(),
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": 7,
    }
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["DeletionDate"] == result["DeletionDate"]
    assert "PendingDeletionWindowInDays" not in meta


@pytest.mark.parametrize("days, ok", [("6", False), ("7", True), ("30", True), ("31", False), ("0", False), ("-7", False)])
def test_pending_window_bounds(kms, keyring_env, days, ok):
    key = create_key(kms)
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    r = kms("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", days)
    if ok:
        assert r.json()["PendingWindowInDays"] == int(days)
    else:
        refused(r, "ValidationException", 2)
        assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before


def test_pending_window_not_a_number(kms):
    key = create_key(kms)
    refused(kms("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "week"), "ValidationException", 2)


def test_pending_deletion_transitions(kms, keyring_env):
    key = create_key(kms)
    kms("schedule-key-deletion", "--key-id", key).json()
    before = snapshot(Path(keyring_env["KMSCLI_KEYRING"]))
    refused(kms("enable-key", "--key-id", key), "KMSInvalidStateException")
    refused(kms("disable-key", "--key-id", key), "KMSInvalidStateException")
    refused(kms("schedule-key-deletion", "--key-id", key), "KMSInvalidStateException")
    refused(kms("update-key-description", "--key-id", key, "--description", "x"), "KMSInvalidStateException")
    refused(kms("tag-resource", "--key-id", key, "--tag", "a=b"), "KMSInvalidStateException")
    refused(kms("untag-resource", "--key-id", key, "--tag-keys", "a"), "KMSInvalidStateException")
    refused(kms("enable-key-rotation", "--key-id", key), "KMSInvalidStateException")
    refused(kms("rotate-key-on-demand", "--key-id", key), "KMSInvalidStateException")
    assert snapshot(Path(keyring_env["KMSCLI_KEYRING"])) == before
    # reads still answer
    assert kms("list-resource-tags", "--key-id", key).json()["Tags"] == []
    assert kms("get-key-rotation-status", "--key-id", key).json()["KeyRotationEnabled"] is False
    # cancel: back to Disabled, as AWS, with the deletion fields gone
    assert kms("cancel-key-deletion", "--key-id", key).json() == {"KeyId": f"arn:aws:kms:local:000000000000:key/{key}"}
    meta = kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert meta["KeyState"] == "Disabled"
    assert "DeletionDate" not in meta and "PendingDeletionWindowInDays" not in meta
    refused(kms("encrypt", "--key-id", key, "--plaintext", "x"), "DisabledException")
    silent_ok(kms("enable-key", "--key-id", key))
    assert kms("encrypt", "--key-id", key, "--plaintext", "x").status == 0


def test_cancel_needs_a_pending_deletion(kms):
    key = create_key(kms)
    refused(kms("cancel-key-deletion", "--key-id", key), "KMSInvalidStateException")
    silent_ok(kms("disable-key", "--key-id", key))
    refused(kms("cancel-key-deletion", "--key-id", key), "KMSInvalidStateException")


def test_disabled_key_can_be_scheduled(kms):
    key = create_key(kms)
    silent_ok(kms("disable-key", "--key-id", key))
    assert kms("schedule-key-deletion", "--key-id", key).json()["KeyState"] == "PendingDeletion"


def test_state_changes_need_the_passphrase_and_unknown_keys_are_not_found(kms):
    key = create_key(kms)
    refused(kms("disable-key", "--key-id", key, env={"KMSCLI_PASSPHRASE": None}), "KeyringLockedException", 4)
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "Enabled"
    for command in ("enable-key", "disable-key", "schedule-key-deletion", "cancel-key-deletion"):
        refused(kms(command, "--key-id", "00000000-0000-4000-8000-000000000000"), "NotFoundException")
        refused(kms(command, "--key-id", "alias/none"), "NotFoundException")
