"""rotate-master-key and change-passphrase --rotate-master-key (issue 11).

The attack: change-passphrase rewraps only the master key, so an old copy of keyring.toml
with the old passphrase (or a copied session file with its token) yields the master key,
and with it every key created later. After a rotation the old master key opens nothing the
keyring holds. Crash-atomicity is shown by tests/test_crashes.py (op rotate-master-key).
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from conftest import PASSPHRASE, create_key
from test_import import external_key, import_material

from kmscli.errors import KeyringDamagedException, KeyringLockedException
from kmscli.keyring import Keyring


def open_with(path, passphrase=PASSPHRASE) -> Keyring:
    keyring = Keyring.open(Path(path))
    keyring.unlock_with_passphrase(passphrase.encode())
    return keyring


def interrupted_after_one_file(monkeypatch, rotation) -> None:
    """``rotation()`` stopped (SystemExit, as a kill would) once it has rewrapped one file."""
    from kmscli.keyring import master_rotation

    real = master_rotation._rewrap_file
    calls = []

    def crash_after_one(*args):
        if calls:
            raise SystemExit("crash")
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(master_rotation, "_rewrap_file", crash_after_one)
    with pytest.raises(SystemExit):
        rotation()
    monkeypatch.setattr(master_rotation, "_rewrap_file", real)


def all_sealed_open(keyring: Keyring) -> None:
    for key_id in keyring.key_ids():
        doc = keyring.load_key(key_id, verify=True)
        for entry in doc["materials"]:
            keyring.unwrap_material(doc["metadata"], entry)
    keyring.load_aliases(verify=True)


def test_an_old_keyring_toml_and_passphrase_open_nothing_made_after_the_rotation(kms, keyring_env, tmp_path):
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    before = create_key(kms)
    stolen = (ring / "keyring.toml").read_bytes()  # a laptop backup, with a leaked passphrase
    old_master = open_with(ring).master_key
    assert kms("change-passphrase", "--rotate-master-key", env={"KMSCLI_NEW_PASSPHRASE": "new one"}).status == 0
    after = kms("create-key", env={"KMSCLI_PASSPHRASE": "new one"}).json()["KeyMetadata"]["KeyId"]

    # The attacker's copy: the old keyring.toml beside today's key files.
    copy = tmp_path / "attacker"
    shutil.copytree(ring, copy)
    (copy / "keyring.toml").write_bytes(stolen)
    attacker = open_with(copy)
    assert attacker.master_key == old_master
    for key_id in (before, after):
        with pytest.raises(KeyringDamagedException):
            attacker.load_key(key_id, verify=True)
        doc = Keyring.open(copy).load_key(key_id, verify=False)
        with pytest.raises(KeyringDamagedException):
            attacker.unwrap_material(doc["metadata"], doc["materials"][0])
    # The owner's keyring: everything opens under the new master key, with the new passphrase.
    owner = open_with(ring, "new one")
    assert owner.master_key != old_master
    all_sealed_open(owner)


def test_rotation_keeps_keys_ciphertexts_aliases_and_imported_material_ids(kms, keyring_env, tmp_path):
    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/kept", "--target-key-id", key).status == 0
    blob = kms("encrypt", "--key-id", "alias/kept", "--plaintext", "before").json()["CiphertextBlob"]
    external = external_key(kms)
    material = os.urandom(32)
    material_id = import_material(kms, external, tmp_path, material).json()["KeyMaterialId"]
    imported_blob = kms("encrypt", "--key-id", external, "--plaintext", "imported").json()["CiphertextBlob"]
    assert kms("delete-imported-key-material", "--key-id", external).status == 0

    r = kms("rotate-master-key")
    assert r.status == 0, r.stderr
    assert r.json()["DocumentsRewrapped"] == 3  # two key files and aliases.toml
    assert r.json()["KeyringId"]

    plain = kms("decrypt", "--ciphertext-blob", blob).json()["Plaintext"]
    assert base64.b64decode(plain) == b"before"
    # The same material re-imported after the rotation gets the same id (it is in ciphertexts).
    r = import_material(kms, external, tmp_path, material)
    assert r.status == 0, r.stderr
    assert r.json()["KeyMaterialId"] == material_id
    assert base64.b64decode(kms("decrypt", "--ciphertext-blob", imported_blob).json()["Plaintext"]) == b"imported"
    # A second rotation keeps them too.
    assert kms("rotate-master-key").status == 0
    r = kms("delete-imported-key-material", "--key-id", external)
    assert r.status == 0
    assert import_material(kms, external, tmp_path, material).json()["KeyMaterialId"] == material_id
    all_sealed_open(open_with(keyring_env["KMSCLI_KEYRING"]))


def test_rotation_ends_sessions_and_needs_the_passphrase(kms, keyring_env):
    create_key(kms)
    token = kms("unlock").out.strip().split("=", 1)[1]
    session_env = {"KMSCLI_SESSION": token, "KMSCLI_PASSPHRASE": None}
    assert kms("list-keys", env=session_env).status == 0
    assert kms("create-key", env=session_env).status == 0

    refused = kms("rotate-master-key", env=session_env)
    assert refused.status == 4, refused.stderr

    r = kms("rotate-master-key")
    assert r.status == 0, r.stderr
    assert r.json()["SessionsEnded"] == 1
    r = kms("create-key", env=session_env)
    assert r.status == 4 and "ended" in r.stderr


def test_a_writer_unlocked_before_the_rotation_refuses_to_seal_under_the_old_key(kms, keyring_env):
    """Its new key file would be sealed under a master key the keyring no longer holds."""
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    stale = open_with(ring)
    assert kms("rotate-master-key").status == 0
    from kmscli.service import keys

    with pytest.raises(KeyringLockedException, match="master key changed"):
        keys.create_key(stale)
    all_sealed_open(open_with(ring))


def test_a_damaged_key_file_stops_the_rotation_before_anything_changes(kms, keyring_env):
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    key = create_key(kms)
    path = ring / "keys" / f"{key}.toml"
    path.write_text(path.read_text().replace('Description = ""', 'Description = "edited"'))
    before = {p: p.read_bytes() for p in ring.rglob("*") if p.is_file() and p.name != "session-epoch"}
    r = kms("rotate-master-key")
    assert r.status == 5 and "KeyringDamagedException" in r.stderr
    after = {p: p.read_bytes() for p in ring.rglob("*") if p.is_file() and p.name != "session-epoch"}
    assert after == before


def test_an_interrupted_rotation_is_finished_by_the_next_unlock(kms, keyring_env, monkeypatch):
    """A crash after keyring.toml holds both keys and one file was rewrapped (the crash
    harness kills at random moments; this is one moment, made exact)."""
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    for _ in range(3):
        create_key(kms)
    interrupted_after_one_file(monkeypatch, lambda: open_with(ring).rotate_master_key())
    assert "next_master_key" in (ring / "keyring.toml").read_text()

    # A session cannot finish it (only the passphrase unwraps the next key)...
    r = kms("list-keys")  # needs no key material: works meanwhile
    assert r.status == 0
    # ... any command with the passphrase does.
    r = kms("encrypt", "--key-id", Keyring.open(ring).key_ids()[0], "--plaintext", "x")
    assert r.status == 0, r.stderr
    assert "next_master_key" not in (ring / "keyring.toml").read_text()
    all_sealed_open(open_with(ring))


def test_a_wrapped_secret_the_rotation_does_not_know_stops_it_before_anything_changes(kms, keyring_env):
    """A future kind of wrapped field that nobody added to SEALED_KINDS would be left under
    the old key and lost with it: the rotation refuses instead."""
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    key = create_key(kms)
    keyring = open_with(ring)
    doc = keyring.load_key(key)
    doc["some_new_field"] = {"nonce": "AAAAAAAAAAAAAAAA", "wrapped": "AAAA"}
    keyring.save_key(doc)
    before = (ring / "keyring.toml").read_bytes()
    r = kms("rotate-master-key")
    assert r.status == 5 and "does not know how to rewrap" in r.stderr
    assert (ring / "keyring.toml").read_bytes() == before


def test_an_interrupted_passphrase_change_tells_the_old_passphrase_to_try_the_new_one(kms, keyring_env, monkeypatch, tmp_path):
    """change-passphrase --rotate-master-key killed mid-rewrap leaves keyring.toml under the
    new passphrase: the user retrying with the old one was told only that it is wrong."""
    ring = Path(keyring_env["KMSCLI_KEYRING"])
    key = create_key(kms)
    create_key(kms)
    from kmscli.keyring import master_rotation

    interrupted_after_one_file(
        monkeypatch, lambda: master_rotation.rotate(open_with(ring), new_passphrase=b"the new passphrase")
    )

    r = kms("encrypt", "--key-id", key, "--plaintext", "x")  # the old passphrase
    assert r.status == 4 and "IncorrectPassphraseException" in r.stderr
    assert "give the NEW passphrase" in r.stderr
    # Typed at the prompt too: the prompt's own hint ("typed at the prompt is wrong") would hide it.
    from terminal_util import Terminal

    t = Terminal(["encrypt", "--key-id", key, "--plaintext", "x"], {"KMSCLI_KEYRING": str(ring)})
    t.expect("Passphrase for ")
    t.type(PASSPHRASE)
    status, _, shown = t.finish()
    assert status == 4 and "give the NEW passphrase" in shown and "typed at the prompt" not in shown, shown
    new = tmp_path / "new-passphrase"
    new.write_text("the new passphrase\n")
    new.chmod(0o600)
    r = kms("--passphrase-file", str(new), "encrypt", "--key-id", key, "--plaintext", "x")
    assert r.status == 0, r.stderr
    assert "next_master_key" not in (ring / "keyring.toml").read_text()
    all_sealed_open(open_with(ring, "the new passphrase"))
