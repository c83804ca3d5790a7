"""What time makes due happens at the next write: keys past their DeletionDate are destroyed
(file deleted, NotFoundException, aliases removed), due automatic rotations are made."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

from conftest import create_key
from lifecycle_util import T0, at, blob_material_id, key_file, refused, silent_ok


def keyring_dir(env) -> Path:
    return Path(env["KMSCLI_KEYRING"])


def test_material_destroyed_after_the_deletion_date(kms, keyring_env):
    doomed = create_key(kms)
    kept = create_key(kms)
    blob = kms("encrypt", "--key-id", doomed, "--plaintext", "lost").json()["CiphertextBlob"]
    for name, key in (("alias/doomed", doomed), ("alias/doomed-2", doomed), ("alias/kept", kept)):
        silent_ok(kms("create-alias", "--alias-name", name, "--target-key-id", key))
    kms("schedule-key-deletion", "--key-id", doomed, "--pending-window-in-days", "7", env=at(0)).json()
    path = key_file(keyring_dir(keyring_env), doomed)

    # a write one second early destroys nothing
    silent_ok(kms("tag-resource", "--key-id", kept, "--tag", "a=1", env=at(7, seconds=-1)))
    assert path.exists()
    assert kms("describe-key", "--key-id", doomed).json()["KeyMetadata"]["KeyState"] == "PendingDeletion"

    # reads after the date change nothing on disk; the key stays refused
    refused(kms("encrypt", "--key-id", doomed, "--plaintext", "x", env=at(8)), "KMSInvalidStateException")
    assert path.exists()

    # the first write after the date destroys it, whatever that write is about
    silent_ok(kms("tag-resource", "--key-id", kept, "--tag", "b=2", env=at(8)))
    assert not path.exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{kept}.toml"]
    refused(kms("describe-key", "--key-id", doomed), "NotFoundException")
    refused(kms("describe-key", "--key-id", "alias/doomed"), "NotFoundException")
    refused(kms("cancel-key-deletion", "--key-id", doomed), "NotFoundException")
    refused(kms("encrypt", "--key-id", doomed, "--plaintext", "x"), "NotFoundException")
    r = kms("decrypt", "--ciphertext-blob", blob)
    assert r.status == 3 and r.stdout == b""
    assert [a["AliasName"] for a in kms("list-aliases").json()["Aliases"]] == ["alias/kept"]
    assert [k["KeyId"] for k in kms("list-keys").json()["Keys"]] == [kept]
    assert kms("encrypt", "--key-id", "alias/kept", "--plaintext", "x").status == 0


def test_cancelled_deletion_is_not_carried_out(kms, keyring_env):
    key = create_key(kms)
    kms("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7", env=at(0)).json()
    kms("cancel-key-deletion", "--key-id", key, env=at(1)).json()
    create_key(kms)  # a write, long after the old date
    assert kms("create-key", env=at(60)).status == 0
    assert key_file(keyring_dir(keyring_env), key).exists()
    assert kms("describe-key", "--key-id", key).json()["KeyMetadata"]["KeyState"] == "Disabled"


def test_a_hand_edited_deletion_date_is_not_acted_on(kms, keyring_env):
    """The sweep deletes only keys whose document verifies: moving DeletionDate into the past
    by hand does not destroy a key."""
    key = create_key(kms)
    result = kms("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "30", env=at(0)).json()
    path = key_file(keyring_dir(keyring_env), key)
    text = path.read_text()
    assert result["DeletionDate"] in text
    path.write_text(text.replace(result["DeletionDate"], T0.isoformat()))
    assert kms("create-key", env=at(1)).status == 0
    assert path.exists()
    refused(kms("cancel-key-deletion", "--key-id", key), "KeyringDamagedException", 5)


def test_due_automatic_rotation_happens_at_the_next_write(kms, keyring_env):
    key = create_key(kms)
    other = create_key(kms)
    first = kms("describe-key", "--key-id", key).json()["KeyMetadata"]["CurrentKeyMaterialId"]
    old = kms("encrypt", "--key-id", key, "--plaintext", "old").json()["CiphertextBlob"]
    silent_ok(kms("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "90", env=at(0)))

    silent_ok(kms("tag-resource", "--key-id", other, "--tag", "a=1", env=at(90, seconds=-1)))
    assert kms("list-key-rotations", "--key-id", key).json()["Rotations"] == []

    # due, but a read is not a write: nothing rotates yet
    early = kms("encrypt", "--key-id", key, "--plaintext", "x", env=at(91)).json()["CiphertextBlob"]
    assert blob_material_id(early) == first
    assert kms("list-key-rotations", "--key-id", key).json()["Rotations"] == []

    silent_ok(kms("tag-resource", "--key-id", other, "--tag", "b=2", env=at(91)))
    (rotation,) = kms("list-key-rotations", "--key-id", key).json()["Rotations"]
    assert rotation["RotationType"] == "AUTOMATIC"
    assert rotation["RotationDate"] == (T0 + dt.timedelta(days=91)).isoformat()
    assert rotation["KeyMaterialState"] == "CURRENT" and rotation["KeyMaterialId"] != first
    status = kms("get-key-rotation-status", "--key-id", key).json()
    assert status["NextRotationDate"] == (T0 + dt.timedelta(days=181)).isoformat()
    new = kms("encrypt", "--key-id", key, "--plaintext", "new").json()["CiphertextBlob"]
    assert blob_material_id(new) == rotation["KeyMaterialId"]
    for blob, text in ((old, b"old"), (early, b"x"), (new, b"new")):
        assert base64.b64decode(kms("decrypt", "--ciphertext-blob", blob).json()["Plaintext"]) == text

    # one rotation per period: another write the same day rotates nothing more
    assert kms("create-key", env=at(92)).status == 0
    assert len(kms("list-key-rotations", "--key-id", key).json()["Rotations"]) == 1
    # automatic rotations do not count against the 25 on-demand ones
    assert kms("rotate-key-on-demand", "--key-id", key, env=at(92)).status == 0


def test_disabled_key_rotates_only_once_enabled_again(kms):
    key = create_key(kms)
    silent_ok(kms("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "90", env=at(0)))
    silent_ok(kms("disable-key", "--key-id", key, env=at(1)))
    assert kms("create-key", env=at(100)).status == 0
    assert kms("list-key-rotations", "--key-id", key).json()["Rotations"] == []
    silent_ok(kms("enable-key", "--key-id", key, env=at(101)))  # the sweep ran before this write
    assert kms("list-key-rotations", "--key-id", key).json()["Rotations"] == []
    assert kms("create-key", env=at(102)).status == 0
    (rotation,) = kms("list-key-rotations", "--key-id", key).json()["Rotations"]
    assert rotation["RotationType"] == "AUTOMATIC"


def test_disabled_rotation_never_rotates(kms):
    key = create_key(kms)
    silent_ok(kms("enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "90", env=at(0)))
    silent_ok(kms("disable-key-rotation", "--key-id", key, env=at(10)))
    assert kms("create-key", env=at(400)).status == 0
    assert kms("list-key-rotations", "--key-id", key).json()["Rotations"] == []


def test_sweep_in_a_real_process(kms_proc, keyring_env):
    """The test clock reaches a separate process too, through the test-only entry point."""
    key = kms_proc("create-key", "--query", "KeyMetadata.KeyId").json()
    assert kms_proc("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7", env=at(0)).status == 0
    assert kms_proc("create-key", env=at(7)).status == 0
    assert not key_file(keyring_dir(keyring_env), key).exists()
    r = kms_proc("describe-key", "--key-id", key)
    refused(r, "NotFoundException")


def test_an_installed_kmscli_reads_no_clock_from_the_environment(kms_proc, keyring_env):
    """The attack of issue 11: with KMSCLI_TEST_NOW honoured, one write "in 2099" destroyed a
    key scheduled for deletion in 30 days, and `unlock --ttl 12h` made a session valid until
    2099. A real process of the product, given the variable, does neither."""
    import datetime as dt

    future = {"KMSCLI_TEST_NOW": "2099-01-01T00:00:00+00:00"}
    key = kms_proc("create-key", "--query", "KeyMetadata.KeyId").json()
    assert kms_proc("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "30").status == 0
    assert kms_proc("create-key", env=future).status == 0
    state = kms_proc("describe-key", "--key-id", key, "--query", "KeyMetadata.KeyState", env=future).json()
    assert state == "PendingDeletion"
    assert key_file(keyring_dir(keyring_env), key).exists()
    r = kms_proc("unlock", "--ttl", "12h", "--output", "json", env=future)
    assert r.status == 0, r.stderr
    expires = [line for line in r.stderr.splitlines() if "ends at" in line][0]
    year = int(expires.split("ends at ")[1][:4])
    assert year == dt.datetime.now(dt.timezone.utc).year or year == dt.datetime.now(dt.timezone.utc).year + 1
    import kmscli

    package = Path(kmscli.__file__).parent
    assert not [p for p in package.rglob("*.py") if "TEST_NOW" in p.read_text()]


def test_any_transaction_runs_the_sweep_python_api(kms, keyring_env):
    """The sweep is a hook of keyring.transaction(): even an empty write carries it out, and
    the Python API takes its clock as an argument."""
    from conftest import PASSPHRASE
    from kmscli.keyring import Keyring

    key = create_key(kms)
    kms("schedule-key-deletion", "--key-id", key, "--pending-window-in-days", "7", env=at(0)).json()
    later = T0 + dt.timedelta(days=7)
    keyring = Keyring.open(
        keyring_dir(keyring_env),
        unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()),
        clock=lambda: later,
    )
    assert key_file(keyring_dir(keyring_env), key).exists()
    with keyring.transaction():
        pass
    assert not key_file(keyring_dir(keyring_env), key).exists()
