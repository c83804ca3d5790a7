"""Secrets: a canary passphrase and the key material never appear in argv, a child's
environment, any output or error, or any keyring file in the clear; modes stay private
under umask 000."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

CANARY = "CANARY-7f3a-passphrase-do-not-leak"


def spellings(secret: bytes) -> list[bytes]:
    """The ways a secret could leak: raw, base64, hex (and the base64 text as bytes)."""
    out = [secret, base64.b64encode(secret), secret.hex().encode(), secret.hex().upper().encode()]
    if len(secret) >= 24:  # a base64 substring, unaligned, of a long secret
        out.append(base64.b64encode(secret[1:])[4:-4])
    return out


def proc(args, env, *, umask=None, input=b""):
    return subprocess.run(
        [sys.executable, "-m", "kmscli", *map(str, args)],
        input=input,
        capture_output=True,
        env=env,
        timeout=120,
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


@pytest.fixture
def canary_keyring(tmp_path):
    """A keyring made under umask 000 with the canary passphrase read from a file."""
    passfile = tmp_path / "passphrase"
    passfile.write_text(CANARY + "\n")
    os.chmod(passfile, 0o600)
    keyring = tmp_path / "keyring"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KMSCLI_")}
    env.update(PYTHONPATH=str(ROOT), KMSCLI_KEYRING=str(keyring), KMSCLI_PASSPHRASE_FILE=str(passfile))
    outputs = []

    def run(*args, ok=True, **kw):
        p = proc(args, env, umask=0, **kw)
        outputs.append((args, p))
        if ok:
            assert p.returncode == 0, p.stderr
        return p

    run("init", "--scrypt-log2-n", "10")
    return keyring, env, run, outputs, tmp_path


def test_no_secret_leaks_anywhere_and_modes_stay_private(canary_keyring):
    keyring, env, run, outputs, tmp_path = canary_keyring
    import json

    sym = json.loads(run("create-key").stdout)["KeyMetadata"]["KeyId"]
    hmac = json.loads(run("create-key", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC").stdout)["KeyMetadata"]["KeyId"]
    ecc = json.loads(run("create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY").stdout)["KeyMetadata"]["KeyId"]
    run("create-alias", "--alias-name", "alias/canary", "--target-key-id", sym)
    run("tag-resource", "--key-id", sym, "--tag", "a=b")
    run("rotate-key-on-demand", "--key-id", sym)
    blob = json.loads(run("encrypt", "--key-id", sym, "--plaintext", "hello").stdout)["CiphertextBlob"]
    run("decrypt", "--ciphertext-blob", blob)
    run("encrypt", "--key-id", sym, "--plaintext", "hello", "--out", str(tmp_path / "out.bin"))
    run("sign", "--key-id", ecc, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256")
    run("generate-mac", "--key-id", hmac, "--message", "m", "--mac-algorithm", "HMAC_SHA_256")
    run("get-public-key", "--key-id", ecc)
    run("list-keys")
    run("describe-key", "--key-id", sym)
    # Failures too: a wrong passphrase, a damaged ciphertext.
    wrong = tmp_path / "wrong"
    wrong.write_text("CANARY-wrong-passphrase\n")
    os.chmod(wrong, 0o600)
    run("encrypt", "--key-id", sym, "--plaintext", "x", "--passphrase-file", str(wrong), ok=False)
    run("decrypt", "--ciphertext-blob", base64.b64encode(b"\x01" + bytes(80)).decode(), ok=False)
    run("--debug", "decrypt", "--ciphertext-blob", base64.b64encode(b"\x01" + bytes(80)).decode(), ok=False)

    # Every secret: the passphrase, the master key, every key's every material.
    from kmscli.keyring import Keyring

    opened = Keyring.open(keyring)
    opened._master = opened.master_from_passphrase(CANARY.encode())
    secrets = [CANARY.encode(), b"CANARY-wrong-passphrase", opened.master_key]
    for key_id in opened.key_ids():
        doc = opened.load_key(key_id)
        secrets += [opened.unwrap_material(doc["metadata"], m) for m in doc["materials"]]
    assert len(secrets) == 3 + 4  # the symmetric key was rotated once

    leaks = []
    for args, p in outputs:
        assert CANARY not in " ".join(map(str, args))  # never on argv
        for secret in secrets:
            for spelling in spellings(secret):
                if spelling in p.stdout or spelling in p.stderr:
                    leaks.append((args[0], "output"))
    for path in [*keyring.rglob("*"), tmp_path / "out.bin"]:
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                for spelling in spellings(secret):
                    if spelling in data:
                        leaks.append((str(path), "file"))
    assert leaks == []

    # umask 000 did not loosen a single mode.
    for path in [keyring, *keyring.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert stat.S_IMODE((tmp_path / "out.bin").stat().st_mode) == 0o600


def test_kmscli_starts_no_child_and_keeps_the_passphrase_out_of_its_environment(tmp_path, monkeypatch):
    """No child process could inherit a secret: none is started, and a passphrase read from a
    file is never copied into the environment."""
    from conftest import make_keyring

    from kmscli.cli.main import main

    env = make_keyring(tmp_path / "keyring")
    passfile = tmp_path / "passphrase"
    passfile.write_text("correct horse battery staple\n")
    spawned = []
    import subprocess as sp

    for module, name in ((os, "fork"), (os, "execv"), (os, "execve"), (os, "posix_spawn"), (os, "system"), (sp, "Popen")):
        monkeypatch.setattr(module, name, lambda *a, _n=name, **k: spawned.append(_n))
    monkeypatch.setenv("KMSCLI_KEYRING", env["KMSCLI_KEYRING"])
    monkeypatch.setenv("KMSCLI_PASSPHRASE_FILE", str(passfile))
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["create-key"]) == 0
        assert main(["encrypt", "--key-id", json_key(out.getvalue()), "--plaintext", "x"]) == 0
        assert main(["list-keys", "--output", "table"]) == 0
    assert spawned == []
    assert not any("correct horse" in v for v in os.environ.values())


def json_key(text: str) -> str:
    import json

    return json.loads(text)["KeyMetadata"]["KeyId"]
