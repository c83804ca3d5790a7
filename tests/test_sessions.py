"""unlock / lock sessions and change-passphrase."""

import base64
import datetime as dt
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PASSPHRASE, create_key, make_keyring, run_in_process, run_process
from kmscli.errors import ExitStatus, KmsError
from kmscli.keyring import Keyring, session

TOKEN_LINE = re.compile(r"^export KMSCLI_SESSION=(kmscli-session-1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43})\n$")
NO_PASSPHRASE = {"KMSCLI_PASSPHRASE": None, "KMSCLI_PASSPHRASE_FILE": None}


def unlock(kms, *args) -> str:
    r = kms("unlock", *args)
    assert r.status == 0, r.stderr
    m = TOKEN_LINE.match(r.out)
    assert m, r.out
    assert m.group(1) not in r.stderr
    return m.group(1)


def session_dir() -> Path:
    return Path(os.environ["XDG_RUNTIME_DIR"]) / "kmscli"


def with_session(token):
    return {**NO_PASSPHRASE, "KMSCLI_SESSION": token}


def assert_locked(r, token, *, name="SessionExpiredException"):
    assert r.status == 4
    assert r.stdout == b""
    assert f"kmscli: error: {name}:" in r.stderr
    assert 'kmscli: hint: start a new session with: eval "$(kmscli unlock)"' in r.stderr
    assert token.split(".")[2] not in r.stderr  # the secret half of the token never shows


def all_files_bytes(*roots):
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file():
                yield path, path.read_bytes()


# --- sessions -----------------------------------------------------------------------------------


def test_session_works_with_no_passphrase_anywhere(kms, keyring_env):
    key = create_key(kms)
    token = unlock(kms)
    # A real process, with no passphrase, passphrase file or terminal: only the token.
    r = run_process(["encrypt", "--key-id", key, "--plaintext", "hi"], env={**keyring_env, **with_session(token)})
    assert r.status == 0, r.stderr
    blob = json.loads(r.stdout)["CiphertextBlob"]
    r = run_process(["decrypt", "--ciphertext-blob", blob, "--out", "-"], env={**keyring_env, **with_session(token)})
    assert r.status == 0, r.stderr
    assert r.stdout == b"hi"


def test_session_file_is_private_and_holds_no_token_or_master_key(kms, keyring_env):
    create_key(kms)
    token = unlock(kms)
    directory = session_dir()
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = list(directory.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    secret = token.split(".")[2]
    for path, data in all_files_bytes(directory, keyring_env["KMSCLI_KEYRING"]):
        assert secret.encode() not in data, path
        assert token.encode() not in data, path


def test_without_the_token_the_keyring_stays_locked(kms):
    key = create_key(kms)
    unlock(kms)
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env=NO_PASSPHRASE)
    assert r.status == 4
    assert "KeyringLockedException" in r.stderr


def test_lock_ends_every_session_at_once(kms):
    key = create_key(kms)
    first, second = unlock(kms), unlock(kms)
    r = kms("lock", env=NO_PASSPHRASE)  # needs no passphrase
    assert r.json()["SessionsEnded"] == 2
    for token in (first, second):
        assert_locked(kms("encrypt", "--key-id", key, "--plaintext", "hi", env=with_session(token)), token)
    assert list(session_dir().iterdir()) == []


def test_a_copy_of_a_session_file_is_not_revived_after_lock(kms, tmp_path):
    key = create_key(kms)
    token = unlock(kms)
    saved = tmp_path / "saved"
    shutil.copytree(session_dir(), saved)
    assert kms("lock").status == 0
    shutil.rmtree(session_dir())
    shutil.copytree(saved, session_dir())  # the attacker puts the old file back
    assert_locked(kms("encrypt", "--key-id", key, "--plaintext", "hi", env=with_session(token)), token)


def test_expired_session_is_refused_and_removed(kms):
    # The test clock, not sleep: on a loaded machine a real second can pass before the first use.
    key = create_key(kms)

    def at(instant):
        from conftest import TEST_CLOCK

        return {TEST_CLOCK: instant}

    r = kms("unlock", "--ttl", "1s", env=at("2030-01-01T00:00:00Z"))
    assert r.status == 0, r.stderr
    token = TOKEN_LINE.match(r.out).group(1)
    used = kms("encrypt", "--key-id", key, "--plaintext", "hi", env={**with_session(token), **at("2030-01-01T00:00:00.900Z")})
    assert used.status == 0, used.stderr
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env={**with_session(token), **at("2030-01-01T00:00:01Z")})
    assert_locked(r, token)
    assert "expired" in r.stderr
    assert list(session_dir().iterdir()) == []


def test_expiry_follows_the_keyrings_clock(kms, keyring_env):
    """The service path with time passed in: one second before expiry works, at expiry not."""
    create_key(kms)
    path = Path(keyring_env["KMSCLI_KEYRING"])
    start = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    ring = Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()), clock=lambda: start)
    token = session.start(ring, ttl=600)["Token"]
    before = Keyring.open(path, clock=lambda: start + dt.timedelta(seconds=599))
    assert len(session.master_from_session(before, token)) == 32
    after = Keyring.open(path, clock=lambda: start + dt.timedelta(seconds=600))
    with pytest.raises(KmsError) as e:
        session.master_from_session(after, token)
    assert e.value.status == ExitStatus.LOCKED
    assert e.value.name == "SessionExpiredException"


@pytest.mark.parametrize("field", ["master_key", "expires", "epoch", "keyring_id", "nonce"])
def test_tampered_session_file_is_refused(kms, field):
    key = create_key(kms)
    token = unlock(kms)
    (path,) = session_dir().iterdir()
    doc = json.loads(path.read_bytes())
    if field == "expires":
        doc["expires"] += 3600  # a longer life is exactly what an editor would want
    elif field in ("master_key", "nonce"):
        raw = bytearray(base64.b64decode(doc[field]))
        raw[0] ^= 1
        doc[field] = base64.b64encode(bytes(raw)).decode()
    else:
        doc[field] = doc[field][:-1] + ("0" if doc[field][-1] != "0" else "1")
    path.write_text(json.dumps(doc))
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env=with_session(token))
    assert r.status == 4
    assert r.stdout == b""
    assert "KeyringLockedException" in r.stderr and "not valid" in r.stderr
    assert token.split(".")[2] not in r.stderr


def test_a_wrong_token_is_refused(kms):
    key = create_key(kms)
    token = unlock(kms)
    prefix, session_id, secret = token.split(".")
    forged = f"{prefix}.{session_id}.{'A' * 43}"
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env=with_session(forged))
    assert_locked(r, forged, name="KeyringLockedException")
    assert secret not in r.stderr


@pytest.mark.parametrize("token", ["garbage", "kmscli-session-1.abc.def", " "])
def test_a_malformed_token_is_refused_without_echo(kms, token):
    key = create_key(kms)
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env=with_session(token))
    assert r.status == 4
    assert r.stdout == b""
    if token.strip():
        assert token not in r.stderr


def test_a_session_of_another_keyring_is_refused(kms, tmp_path):
    token = unlock(kms)
    other = make_keyring(tmp_path / "other")
    key = run_in_process(["create-key", "--query", "KeyMetadata.KeyId", "--output", "text"], env=other).out.strip()
    r = run_in_process(["encrypt", "--key-id", key, "--plaintext", "hi"], env={**other, **with_session(token)})
    assert_locked(r, token)


def test_a_passphrase_still_unlocks_when_the_session_has_ended(kms):
    key = create_key(kms)
    token = unlock(kms)
    kms("lock")
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env={"KMSCLI_SESSION": token})
    assert r.status == 0, r.stderr


def test_unlock_needs_the_passphrase_not_a_session(kms):
    token = unlock(kms)
    r = kms("unlock", env=with_session(token))
    assert r.status == 4
    assert r.stdout == b""
    assert "KeyringLockedException" in r.stderr


def test_unlock_with_a_wrong_passphrase_writes_nothing(kms):
    r = kms("unlock", env={"KMSCLI_PASSPHRASE": "wrong"})
    assert r.status == 4
    assert "IncorrectPassphraseException" in r.stderr
    assert r.stdout == b""
    assert not session_dir().exists() or list(session_dir().iterdir()) == []


@pytest.mark.parametrize("ttl,ok", [("1s", True), ("90", True), ("15m", True), ("12h", True), ("0s", False), ("43201s", False), ("13h", False), ("1d", False), ("soon", False)])
def test_ttl_bounds(kms, ttl, ok):
    r = kms("unlock", "--ttl", ttl)
    if ok:
        assert r.status == 0, r.stderr
        assert TOKEN_LINE.match(r.out)
    else:
        assert r.status == 2
        assert r.stdout == b""
        assert "ValidationException" in r.stderr


def test_parse_ttl_units():
    assert session.parse_ttl("90") == 90
    assert session.parse_ttl("90s") == 90
    assert session.parse_ttl("15m") == 900
    assert session.parse_ttl("2h") == 7200
    assert session.parse_ttl("12h") == session.TTL_MAX


# --- the session directory ---------------------------------------------------------------------------


def test_session_directory_reached_through_a_symlink_is_refused(kms, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    session_dir().symlink_to(elsewhere)
    r = kms("unlock")
    assert r.status == 5
    assert r.stdout == b""
    assert "symbolic link" in r.stderr
    assert list(elsewhere.iterdir()) == []


def test_session_directory_open_to_others_is_refused(kms):
    session_dir().mkdir(mode=0o700)
    os.chmod(session_dir(), 0o755)
    r = kms("unlock")
    assert r.status == 5
    assert "mode 0755" in r.stderr
    assert list(session_dir().iterdir()) == []


def test_without_xdg_runtime_dir_a_private_per_user_directory_is_used(kms, tmp_path):
    key = create_key(kms)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"XDG_RUNTIME_DIR": None, "TMPDIR": str(tmp)}
    r = kms("unlock", env=env)
    token = TOKEN_LINE.match(r.out).group(1)
    directory = tmp / f"kmscli-{os.geteuid()}"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert len(list(directory.iterdir())) == 1
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env={**env, **with_session(token)})
    assert r.status == 0, r.stderr


def test_session_fast_path_imports_no_scrypt_rich_or_asymmetric(kms, keyring_env):
    key = create_key(kms)
    token = unlock(kms)
    probe = (
        "import sys; from kmscli.cli.main import main; "
        f"status = main(['encrypt', '--key-id', '{key}', '--plaintext', 'hi']); "
        "heavy = [m for m in sys.modules if m.startswith(('rich', 'cryptography.hazmat.primitives.asymmetric', "
        "'cryptography.hazmat.primitives.kdf.scrypt', 'tomli_w'))]; "
        "print(status, heavy, file=sys.stderr)"
    )
    env = {**os.environ, **keyring_env, "KMSCLI_SESSION": token, "PYTHONPATH": str(Path(__file__).parent.parent)}
    env.pop("KMSCLI_PASSPHRASE")
    p = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert p.stderr.strip().splitlines()[-1] == "0 []"


# --- change-passphrase -----------------------------------------------------------------------------


def test_change_passphrase(kms, keyring_env, tmp_path):
    key = create_key(kms)
    blob = kms("encrypt", "--key-id", key, "--plaintext", "kept").json()["CiphertextBlob"]
    keyring = Path(keyring_env["KMSCLI_KEYRING"])
    key_files = {p: p.read_bytes() for p in (keyring / "keys").iterdir()}
    keyring_toml = (keyring / "keyring.toml").read_bytes()
    new = tmp_path / "new-passphrase"
    new.write_text("a new passphrase\n")

    r = kms("change-passphrase", "--new-passphrase-file", new)
    assert r.status == 0, r.stderr
    assert r.json()["KeyringId"]

    # the old passphrase is refused at once
    r = kms("decrypt", "--ciphertext-blob", blob)
    assert r.status == 4
    assert "IncorrectPassphraseException" in r.stderr
    assert r.stdout == b""
    # the new one opens everything encrypted before
    r = kms("decrypt", "--ciphertext-blob", blob, "--out", "-", env={"KMSCLI_PASSPHRASE": "a new passphrase"})
    assert r.status == 0, r.stderr
    assert r.stdout == b"kept"
    # only keyring.toml was rewritten: every key file has the same bytes
    assert {p: p.read_bytes() for p in (keyring / "keys").iterdir()} == key_files
    assert (keyring / "keyring.toml").read_bytes() != keyring_toml


def test_change_passphrase_from_the_environment_ends_sessions(kms):
    key = create_key(kms)
    token = unlock(kms)
    r = kms("change-passphrase", env={"KMSCLI_NEW_PASSPHRASE": "another one"})
    assert r.json()["SessionsEnded"] == 1
    assert_locked(kms("encrypt", "--key-id", key, "--plaintext", "hi", env=with_session(token)), token)
    r = kms("encrypt", "--key-id", key, "--plaintext", "hi", env={"KMSCLI_PASSPHRASE": "another one"})
    assert r.status == 0, r.stderr


def test_change_passphrase_can_raise_the_scrypt_cost(kms):
    r = kms("change-passphrase", "--scrypt-log2-n", "11", env={"KMSCLI_NEW_PASSPHRASE": "costlier"})
    assert r.json()["ScryptLog2N"] == 11
    assert kms("list-keys", env={"KMSCLI_PASSPHRASE": "costlier"}).status == 0


@pytest.mark.parametrize(
    "env,status,error",
    [
        ({"KMSCLI_PASSPHRASE": "wrong", "KMSCLI_NEW_PASSPHRASE": "x"}, 4, "IncorrectPassphraseException"),
        ({}, 4, "KeyringLockedException"),  # no new passphrase and no terminal to ask on
    ],
)
def test_failed_change_passphrase_changes_nothing(kms, keyring_env, env, status, error):
    keyring = Path(keyring_env["KMSCLI_KEYRING"])
    before = dict(all_files_bytes(keyring))
    r = kms("change-passphrase", env=env)
    assert r.status == status
    assert error in r.stderr
    assert r.stdout == b""
    assert dict(all_files_bytes(keyring)) == before


def test_change_passphrase_needs_the_passphrase_not_a_session(kms, keyring_env):
    token = unlock(kms)
    keyring = Path(keyring_env["KMSCLI_KEYRING"])
    before = (keyring / "keyring.toml").read_bytes()
    r = kms("change-passphrase", env={**with_session(token), "KMSCLI_NEW_PASSPHRASE": "x"})
    assert r.status == 4
    assert "KeyringLockedException" in r.stderr
    assert (keyring / "keyring.toml").read_bytes() == before


def test_change_passphrase_from_a_new_passphrase_file_in_the_environment(kms, tmp_path):
    new = tmp_path / "new"
    new.write_text("from a file named in the environment\n")
    assert kms("change-passphrase", env={"KMSCLI_NEW_PASSPHRASE_FILE": str(new)}).status == 0
    assert kms("create-key").status == 4
    assert kms("create-key", env={"KMSCLI_PASSPHRASE": "from a file named in the environment"}).status == 0


@pytest.mark.parametrize(
    "command",
    [
        "unlock", "lock", "change-passphrase", "re-encrypt", "generate-data-key",
        "generate-data-key-without-plaintext", "generate-data-key-pair",
        "generate-data-key-pair-without-plaintext", "generate-random",
    ],
)
def test_every_new_command_has_help_with_an_example(command):
    r = run_in_process([command, "--help"])
    assert r.status == 0
    assert "Example:" in r.out
    assert f"kmscli {command}" in r.out.split("Example:")[1]
