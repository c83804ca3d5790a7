"""The keyring's protection: scrypt defaults and bounds, the master key, bindings of wrapped
material, the integrity HMAC, passphrase sources and their errors."""

from __future__ import annotations

import base64
import os
import re
import tomllib
from pathlib import Path

import pytest

from conftest import PASSPHRASE, TEST_LOG2_N, create_key, run_in_process
from seed_keys import assert_error, ok_json

from kmscli.crypto import kdf
from kmscli.keyring import Keyring
from kmscli.keyring import format as fmt


def ring_of(env) -> Path:
    return Path(env["KMSCLI_KEYRING"])


def read_toml(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def write_toml(path: Path, doc: dict) -> None:
    import tomli_w

    path.write_text(tomli_w.dumps(doc))


def open_unlocked(path: Path) -> Keyring:
    return Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))


# --- scrypt and the master key ----------------------------------------------------------------


def test_init_uses_scrypt_log2n_17_r8_p1_with_a_random_salt(tmp_path, monkeypatch):
    calls = []
    real = kdf.scrypt

    def recording(passphrase, salt, log2_n, r, p, length=32):
        calls.append((passphrase, salt, log2_n, r, p, length))
        return real(passphrase, salt, 10, r, p, length)  # the real cost is not this test's point

    monkeypatch.setattr(kdf, "scrypt", recording)
    docs = []
    for name in ("one", "two"):
        env = {"KMSCLI_KEYRING": str(tmp_path / name), "KMSCLI_PASSPHRASE": PASSPHRASE}
        assert run_in_process(["init"], env=env).status == 0
        docs.append(read_toml(tmp_path / name / "keyring.toml"))
    assert [c[2:] for c in calls] == [(17, 8, 1, 32)] * 2
    assert calls[0][0] == PASSPHRASE.encode()
    for doc, call in zip(docs, calls):
        check = doc["kdf"].pop("check")  # the passphrase check (docs/keyring-format.md)
        assert len(fmt.b64d(check, "check")) == 32
        assert doc["kdf"] == {"name": "scrypt", "log2_n": 17, "r": 8, "p": 1, "salt": fmt.b64e(call[1])}
        assert len(call[1]) == 16
        assert doc["master_key"]["algorithm"] == "AES_256_GCM"
        assert len(base64.b64decode(doc["master_key"]["nonce"])) == 12
        assert len(base64.b64decode(doc["master_key"]["ciphertext"])) == 32 + 16  # key + GCM tag
    assert calls[0][1] != calls[1][1]


def test_the_master_key_is_random_256_bits_and_never_stored_in_the_clear(keyring_env, kms):
    create_key(kms)
    ring = ring_of(keyring_env)
    master = open_unlocked(ring).master_key
    assert len(master) == 32
    other = tmp = ring.parent / "other"
    assert run_in_process(["--keyring", tmp, "init", "--scrypt-log2-n", TEST_LOG2_N],
                          env={"KMSCLI_PASSPHRASE": PASSPHRASE}).status == 0
    assert open_unlocked(other).master_key != master
    for path in ring.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (master, base64.b64encode(master), master.hex().encode(), PASSPHRASE.encode()):
                assert secret not in data, path


HOSTILE_KDF = [
    {"log2_n": 40},
    {"log2_n": 64},
    {"log2_n": 10**30},
    {"log2_n": 9},
    {"log2_n": -1},
    {"log2_n": "17"},
    {"log2_n": True},
    {"log2_n": 17.0},
    {"r": 1000},
    {"r": 0},
    {"p": 1 << 20},
    {"p": 0},
    {"log2_n": 20, "r": 8},  # 1 GiB: each bound alone is fine, the product is not
    {"log2_n": 19, "r": 32},
    # Within the memory bound, but p multiplies the work: ~50x the default unlock (issue 11).
    {"log2_n": 20, "r": 2, "p": 16},
    {"log2_n": 18, "r": 8, "p": 2},
    {"salt": fmt.b64e(b"short")},
    {"salt": "not base64!"},
    {"name": "argon2"},
]


@pytest.mark.parametrize("change", HOSTILE_KDF)
def test_hostile_kdf_parameters_are_refused_before_scrypt_runs(keyring_env, kms, monkeypatch, change):
    key = create_key(kms)
    path = ring_of(keyring_env) / "keyring.toml"
    doc = read_toml(path)
    doc["kdf"].update(change)
    # The checksum recomputed, as a planter would: the bounds themselves must refuse it.
    doc.pop("checksum")
    path.write_bytes(fmt.dump_keyring(doc))

    def must_not_run(*args, **kwargs):
        raise AssertionError("scrypt ran on hostile parameters")

    monkeypatch.setattr(kdf, "scrypt", must_not_run)
    r = kms("encrypt", "--key-id", key, "--plaintext", "x")
    line = assert_error(r, 5, "KeyringDamagedException")
    assert "scrypt" in line or "kdf" in line


def test_an_edited_keyring_file_does_not_unlock(keyring_env, kms):
    key = create_key(kms)
    path = ring_of(keyring_env) / "keyring.toml"
    doc = read_toml(path)
    doc.pop("checksum", None)  # as a careful forger would: a file without one is still read
    doc["kdf"]["log2_n"] = 11  # a valid cost, but not the one the master key was wrapped with
    write_toml(path, doc)
    # Another derived key: nothing can tell it from a wrong passphrase.
    assert_error(kms("encrypt", "--key-id", key, "--plaintext", "x"), 4, "IncorrectPassphraseException")
    doc["kdf"]["log2_n"] = int(TEST_LOG2_N)
    doc["region"] = "eu-west-1"  # bound as AAD: the wrap does not open any more
    write_toml(path, doc)
    # The right passphrase (its check matches) on an edited file: damaged, not "wrong passphrase".
    assert_error(kms("encrypt", "--key-id", key, "--plaintext", "x"), 5, "KeyringDamagedException")


def test_a_keyring_of_a_future_format_version_is_refused(keyring_env, kms):
    path = ring_of(keyring_env) / "keyring.toml"
    doc = read_toml(path)
    doc["version"] = 2
    write_toml(path, doc)
    line = assert_error(kms("list-keys"), 5, "KeyringDamagedException")
    assert "version" in line


# --- key files: integrity and bindings ----------------------------------------------------------


def key_file(env, key) -> Path:
    return ring_of(env) / "keys" / f"{key}.toml"


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["metadata"].update(Description="edited"),
        lambda d: d["metadata"].update(KeyUsage="SIGN_VERIFY"),
        lambda d: d["metadata"].update(KeyState="Enabled", Origin="EXTERNAL"),
        lambda d: d["materials"][0].update(CreationDate="2020-01-01T00:00:00+00:00"),
        lambda d: d.update(integrity=fmt.b64e(bytes(32))),
        lambda d: d.pop("integrity"),
        lambda d: d.update(tags={"owner": "mallory"}),
    ],
)
def test_a_key_file_edited_by_hand_is_refused_as_damaged(keyring_env, kms, edit):
    key = create_key(kms)
    path = key_file(keyring_env, key)
    doc = read_toml(path)
    edit(doc)
    write_toml(path, doc)
    line = assert_error(kms("encrypt", "--key-id", key, "--plaintext", "x"), 5, "KeyringDamagedException")
    assert "altered" in line


def test_material_pasted_from_another_key_is_refused_even_with_a_valid_integrity_tag(keyring_env, kms):
    # Only the master key's holder can recompute the integrity tag; the AAD binding is the
    # second line of defence, checked here on its own by re-sealing the edited document.
    a, b = create_key(kms), create_key(kms)
    ring = open_unlocked(ring_of(keyring_env))
    doc_a, doc_b = ring.load_key(a), ring.load_key(b)
    doc_a["materials"] = doc_b["materials"]
    doc_a["metadata"]["CurrentKeyMaterialId"] = doc_b["metadata"]["CurrentKeyMaterialId"]
    ring.save_key(doc_a)
    line = assert_error(kms("encrypt", "--key-id", a, "--plaintext", "x"), 5, "KeyringDamagedException")
    assert "does not unwrap" in line
    assert ok_json(kms("encrypt", "--key-id", b, "--plaintext", "x"))


@pytest.mark.parametrize(
    "spec,field,value,operation",
    [
        ("HMAC_256", "KeySpec", "HMAC_512", ["generate-mac", "--message", "m", "--mac-algorithm", "HMAC_SHA_512"]),
        ("HMAC_256", "Origin", "EXTERNAL", ["generate-mac", "--message", "m", "--mac-algorithm", "HMAC_SHA_256"]),
        ("RSA_2048", "KeyUsage", "SIGN_VERIFY",
         ["sign", "--message", "m", "--signing-algorithm", "RSASSA_PSS_SHA_256"]),
    ],
)
def test_material_is_bound_to_spec_usage_and_origin(keyring_env, kms, spec, field, value, operation):
    key = create_key(kms, spec)
    ring = open_unlocked(ring_of(keyring_env))
    doc = ring.load_key(key)
    doc["metadata"][field] = value
    ring.save_key(doc)  # a valid integrity tag: only the AAD binding stands in the way
    r = kms(operation[0], "--key-id", key, *operation[1:])
    line = assert_error(r, 5, "KeyringDamagedException")
    assert "does not unwrap" in line


def test_a_key_file_from_another_keyring_is_refused(tmp_path, kms, keyring_env):
    other_env = {"KMSCLI_KEYRING": str(tmp_path / "other"), "KMSCLI_PASSPHRASE": PASSPHRASE}
    assert run_in_process(["init", "--scrypt-log2-n", TEST_LOG2_N], env=other_env).status == 0
    foreign = run_in_process(["create-key"], env=other_env).json()["KeyMetadata"]["KeyId"]
    key_file(other_env, foreign).rename(key_file(keyring_env, foreign))
    r = kms("encrypt", "--key-id", foreign, "--plaintext", "x")
    assert_error(r, 5, "KeyringDamagedException")


def test_a_key_file_under_another_name_is_refused(keyring_env, kms):
    a, b = create_key(kms), create_key(kms)
    key_file(keyring_env, a).replace(key_file(keyring_env, b))
    assert_error(kms("describe-key", "--key-id", b), 5, "KeyringDamagedException")


def test_a_restored_older_copy_of_a_key_file_is_accepted(keyring_env, kms):
    # Documented as NOT protected (docs/keyring-format.md): each file is sealed on its own,
    # so an older copy of a key file still verifies. This test pins that documented limit.
    key = create_key(kms, "SYMMETRIC_DEFAULT", None, "--description", "old")
    path = key_file(keyring_env, key)
    old = path.read_bytes()
    ring = open_unlocked(ring_of(keyring_env))
    doc = ring.load_key(key)
    doc["metadata"]["Description"] = "new"
    ring.save_key(doc)
    path.write_bytes(old)
    assert ok_json(kms("describe-key", "--key-id", key))["KeyMetadata"]["Description"] == "old"
    assert ok_json(kms("encrypt", "--key-id", key, "--plaintext", "x"))


def test_describe_and_list_need_no_passphrase(keyring_env, kms):
    key = create_key(kms)
    locked = {"KMSCLI_PASSPHRASE": None}
    assert ok_json(kms("describe-key", "--key-id", key, env=locked))["KeyMetadata"]["KeyId"] == key
    assert [k["KeyId"] for k in ok_json(kms("list-keys", env=locked))["Keys"]] == [key]
    wrong = {"KMSCLI_PASSPHRASE": "wrong"}
    assert ok_json(kms("describe-key", "--key-id", key, env=wrong))["KeyMetadata"]["KeyId"] == key


# --- passphrase sources -------------------------------------------------------------------------


def test_wrong_passphrase_is_its_own_error(keyring_env, kms):
    key = create_key(kms)
    r = kms("encrypt", "--key-id", key, "--plaintext", "x", env={"KMSCLI_PASSPHRASE": "wrong"})
    line = assert_error(r, 4, "IncorrectPassphraseException")
    assert "passphrase is wrong" in line
    assert "wrong" not in line.replace("passphrase is wrong", "")  # the passphrase is not echoed


def test_locked_keyring_without_a_terminal_exits_4_with_a_hint(keyring_env, kms):
    key = create_key(kms)
    r = kms("encrypt", "--key-id", key, "--plaintext", "x", env={"KMSCLI_PASSPHRASE": None})
    assert_error(r, 4, "KeyringLockedException")
    assert "kmscli: hint: " in r.stderr and "KMSCLI_PASSPHRASE_FILE" in r.stderr


@pytest.mark.parametrize("content", [PASSPHRASE + "\n", PASSPHRASE, PASSPHRASE + "\r\nsecond line\n"])
def test_passphrase_from_the_first_line_of_a_file(keyring_env, kms, tmp_path, content):
    key = create_key(kms)
    (tmp_path / "pass").write_text(content, newline="")
    os.chmod(tmp_path / "pass", 0o600)  # a readable one is warned about (test_small_hardening)
    for how in (["--passphrase-file", tmp_path / "pass"], []):
        env = {"KMSCLI_PASSPHRASE": None, "KMSCLI_PASSPHRASE_FILE": None if how else str(tmp_path / "pass")}
        assert ok_json(kms(*how, "encrypt", "--key-id", key, "--plaintext", "x", env=env))


def test_the_passphrase_file_comes_before_the_environment(keyring_env, kms, tmp_path):
    key = create_key(kms)
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    os.chmod(tmp_path / "pass", 0o600)
    env = {"KMSCLI_PASSPHRASE": "wrong"}
    assert ok_json(kms("--passphrase-file", tmp_path / "pass", "encrypt", "--key-id", key, "--plaintext", "x", env=env))
    (tmp_path / "pass").write_text("wrong\n")
    r = kms("--passphrase-file", tmp_path / "pass", "encrypt", "--key-id", key, "--plaintext", "x",
            env={"KMSCLI_PASSPHRASE": PASSPHRASE})
    assert_error(r, 4, "IncorrectPassphraseException")


def test_passphrase_file_dash_and_missing_file_are_refused(keyring_env, kms, tmp_path):
    key = create_key(kms)
    r = kms("--passphrase-file", "-", "encrypt", "--key-id", key, "--plaintext", "x")
    assert_error(r, 2, "ValidationException")
    r = kms("--passphrase-file", tmp_path / "missing", "encrypt", "--key-id", key, "--plaintext", "x")
    assert_error(r, 5, "FileAccessException")


def test_no_option_takes_a_secret_on_the_command_line():
    from kmscli.cli.main import COMMANDS, LazyGroup, cli

    group = LazyGroup()
    names = []
    for command in [cli] + [group.get_command(None, name) for name in COMMANDS]:
        for param in command.params:
            names += [o for o in param.opts if "pass" in o or "secret" in o or "master" in o]
    # AWS's own option names that hold those words and no secret: a flag, and a key spec.
    names = [n for n in names if n not in ("--bypass-policy-lockout-safety-check", "--customer-master-key-spec")]
    # Options that name a FILE holding a passphrase are fine; none may take the secret itself.
    # --rotate-master-key is a flag: it takes no value at all.
    assert set(names) <= {"--passphrase-file", "--new-passphrase-file", "--rotate-master-key"}, names
    r = run_in_process(["--passphrase", PASSPHRASE, "list-keys"])
    assert_error(r, 2, "ValidationException")
    assert PASSPHRASE not in r.stderr


def test_passphrase_from_a_terminal_prompt(tmp_path):
    """The hidden prompt, in a real process whose controlling terminal is a pty."""
    import fcntl
    import select
    import subprocess
    import sys
    import termios

    from conftest import ROOT

    ring = tmp_path / "keyring"
    env = {"KMSCLI_KEYRING": str(ring), "KMSCLI_PASSPHRASE": PASSPHRASE}
    assert run_in_process(["init", "--scrypt-log2-n", TEST_LOG2_N], env=env).status == 0
    key = run_in_process(["create-key"], env=env).json()["KeyMetadata"]["KeyId"]

    master, slave = os.openpty()

    def controlling_tty():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    child_env = {k: v for k, v in os.environ.items() if not k.startswith("KMSCLI_")}
    child_env.update(PYTHONPATH=str(ROOT), KMSCLI_KEYRING=str(ring))
    p = subprocess.Popen(
        [sys.executable, "-m", "kmscli", "encrypt", "--key-id", key, "--plaintext", "x"],
        stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=child_env, preexec_fn=controlling_tty,
    )
    os.close(slave)
    seen = b""
    try:
        while b"Passphrase for" not in seen:
            ready, _, _ = select.select([master], [], [], 20)
            assert ready, f"no prompt: {seen!r}"
            seen += os.read(master, 1024)
        os.write(master, PASSPHRASE.encode() + b"\n")
        out, _ = p.communicate(timeout=60)
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0
    assert re.search(rb'"CiphertextBlob": "', out)
    assert PASSPHRASE.encode() not in seen  # echo was off
