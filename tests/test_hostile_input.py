"""Hostile input: each gets a clear one-line error, the right exit status and no change on disk."""

from __future__ import annotations

import base64
import re
import os
import resource
import subprocess
import tempfile
import threading
import sys
import time
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT, create_key
from lifecycle_util import refused, snapshot


def clean_failure(result, status: int) -> None:
    assert result.status == status, (result.status, result.stderr)
    assert result.stdout == b""
    assert result.stderr.startswith("kmscli: error: ") and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith(("kmscli: error: ", "kmscli: hint: ")) for line in lines)


@pytest.fixture
def keyring_path(keyring_env) -> Path:
    return Path(keyring_env["KMSCLI_KEYRING"])


# --- KDF parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kdf",
    [
        {"log2_n": 40},
        {"log2_n": 9},
        {"log2_n": 20, "r": 32},  # in range one by one, 4 GiB together
        {"r": 10**9},
        {"p": 0},
        {"p": 10**6},
        {"log2_n": "17"},
        {"log2_n": True},
        {"salt": "AAAA"},
    ],
)
def test_kdf_parameters_out_of_bounds_are_refused_before_scrypt(kms, keyring_path, monkeypatch, kdf):
    from kmscli.crypto import kdf as kdf_module
    from kmscli.keyring import format as fmt

    doc = tomllib.loads((keyring_path / "keyring.toml").read_text())
    doc["kdf"].update(kdf)
    (keyring_path / "keyring.toml").write_bytes(fmt.dump_keyring(doc))  # as a careful attacker would
    before = snapshot(keyring_path)
    calls = []
    real = kdf_module.scrypt
    monkeypatch.setattr(kdf_module, "scrypt", lambda *a: calls.append(a) or real(*a))
    started = time.monotonic()
    result = kms("create-key")
    assert time.monotonic() - started < 2
    refused(result, "KeyringDamagedException", status=5)
    assert calls == []  # nothing was derived, so nothing was allocated
    assert snapshot(keyring_path) == before


# --- key ids ---------------------------------------------------------------------------------

HOSTILE_IDS = [
    "../../../../etc/passwd",
    "../keyring",
    "alias/../../x",
    "arn:aws:kms:local:000000000000:key/../../x",
    "a\x00b",
    "x" * 3000,
    "x" * 2048,
    "🔑" * 10,
    "\x1b[31mred",
    " ",
    "-",
    "12345678-1234-1234-1234-1234567890ab/../x",
]


@pytest.mark.parametrize("key_id", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
@pytest.mark.parametrize("command", ["describe-key", "encrypt", "tag-resource", "create-alias"])
def test_hostile_key_ids_never_reach_the_file_system(kms, keyring_path, monkeypatch, key_id, command):
    args = {
        "describe-key": ["describe-key", "--key-id", key_id],
        "encrypt": ["encrypt", "--key-id", key_id, "--plaintext", "x"],
        "tag-resource": ["tag-resource", "--key-id", key_id, "--tag", "a=b"],
        "create-alias": ["create-alias", "--alias-name", "alias/x", "--target-key-id", key_id],
    }[command]
    before = snapshot(keyring_path)
    touched = []
    # index/format and index/due: every write checks the index and reads what is due
    # (and aliases/: create-alias reads the bucket of alias/x, aliases/<2 hex>.toml)
    allowed = {"keyring.toml", "keys", "aliases.toml", ".lock", keyring_path.name, "index", "format", "due", "aliases"}
    uuid_file = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.toml$|^[0-9a-f]{2}\.toml$")
    for name in ("open", "stat", "lstat", "listdir", "mkdir", "unlink", "rename", "link"):
        real = getattr(os, name)

        def spy(path=".", *a, _real=real, **k):
            if isinstance(path, (str, bytes, os.PathLike)):
                text = os.fsdecode(path)
                inside = text.startswith(str(keyring_path))
                base = os.path.basename(text)
                if (inside and base not in allowed and not uuid_file.match(base) and not base.startswith(".tmp-")) or (
                    not inside and (".." in text or key_id[:12] in text)
                ):
                    touched.append(text)
            return _real(path, *a, **k)

        monkeypatch.setattr(os, name, spy)
    result = kms(*args)
    monkeypatch.undo()
    clean_failure(result, 2 if len(key_id) > 2048 or "\x00" in key_id else result.status)
    assert result.status in (2, 3)
    assert re.match(r"kmscli: error: (ValidationException|NotFoundException): ", result.stderr)
    assert touched == []
    assert snapshot(keyring_path) == before
    assert "\x1b" not in result.stderr and "\x00" not in result.stderr  # never echoed raw
    assert len(result.stderr) < 600


# --- base64, DER and sizes ----------------------------------------------------------------------


@pytest.mark.parametrize("blob", ["AAB=", "AAA", "AA==A", "A===", "$$$$", "AAAA\x00", "QUJD\u00e9"])
def test_non_canonical_base64_is_bad_input(kms, blob):
    clean_failure(kms("decrypt", "--ciphertext-blob", blob), 2)


@pytest.fixture
def signer(kms):
    key = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    signature = kms("sign", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256").json()["Signature"]
    return key, base64.b64decode(signature)


def _der_variants(sig: bytes):
    yield b"\x30\x00"  # an empty SEQUENCE
    yield b"\x30\x80" + sig[2:]  # indefinite length (BER, not DER)
    yield sig + b"\x00"  # trailing garbage
    yield sig[:-1]  # truncated
    yield b"\x30" + bytes([sig[1] + 1]) + sig[2:] + b"\x00"  # lengths that lie
    yield b"\x02\x01\x01"  # an INTEGER, not a SEQUENCE
    yield b"\x30\x06\x02\x01\x00\x02\x01\x00"  # r = s = 0
    yield b"\x30\x84\xff\xff\xff\xff" + sig[2:]  # a 4 GiB length
    yield bytes(64)  # raw r||s, not DER


def test_malformed_der_signatures_do_not_verify(kms, signer):
    key, sig = signer
    for n, bad in enumerate(_der_variants(sig)):
        result = kms(
            "verify", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256",
            "--signature", base64.b64encode(bad).decode(),
        )
        assert result.status == 1, (n, result.stderr)
        assert result.stderr.startswith("kmscli: error: KMSInvalidSignatureException: ")
        assert result.stdout == b""


@pytest.mark.parametrize(
    "data", [b"", b"\x30\x00", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", os.urandom(91), b"\x30\x82\xff\xff" + bytes(10)]
)
def test_malformed_public_keys_are_refused_by_the_crypto_layer(data):
    from kmscli import crypto
    from kmscli.crypto import asymmetric

    with pytest.raises(crypto.CryptoFailure):
        asymmetric.load_public_key(data)


@pytest.mark.parametrize(
    "args",
    [
        ["encrypt", "--key-id", "KEY", "--in", "/dev/zero"],
        ["encrypt", "--key-id", "KEY", "--plaintext", "fileb:///dev/zero"],
        ["decrypt", "--in", "/dev/zero"],
        ["decrypt", "--ciphertext-blob", "fileb:///dev/zero"],
        ["generate-mac", "--key-id", "KEY", "--in", "/dev/zero", "--mac-algorithm", "HMAC_SHA_256"],
        ["sign", "--key-id", "KEY", "--message", "fileb:///dev/zero", "--signing-algorithm", "ECDSA_SHA_256"],
        ["verify", "--key-id", "KEY", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256", "--signature-file", "/dev/zero"],
        ["verify-mac", "--key-id", "KEY", "--message", "m", "--mac-algorithm", "HMAC_SHA_256", "--mac-file", "/dev/zero"],
    ],
    ids=["encrypt-in", "encrypt-fileb", "decrypt-in", "decrypt-fileb", "mac-in", "sign-message-fileb", "signature-file", "mac-file"],
)
def test_endless_input_is_refused_after_limit_plus_one_bytes(kms, monkeypatch, args):
    key = create_key(kms)
    reads = []
    import builtins

    real_open = builtins.open

    def counting_open(path, mode="r", *a, **k):
        f = real_open(path, mode, *a, **k)
        if path == "/dev/zero":
            real_read = f.read
            f.read = lambda n=-1: reads.append(n) or real_read(n)  # type: ignore[method-assign]
        return f

    monkeypatch.setattr(builtins, "open", counting_open)
    result = kms(*[key if a == "KEY" else a for a in args])
    monkeypatch.undo()
    clean_failure(result, 2)
    assert "larger than" in result.stderr
    assert reads and all(0 < n <= 6144 + 1 for n in reads)  # never read(-1) of an endless file


def test_endless_stdin_keeps_memory_bounded(kms, keyring_env):
    key = create_key(kms)
    env = dict(os.environ, PYTHONPATH=str(ROOT), **keyring_env)
    for source in ("-", "/dev/zero"):
        with open("/dev/zero", "rb") as zero, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(
                [sys.executable, "-m", "kmscli", "encrypt", "--key-id", key, "--in", source],
                stdin=zero, stdout=out, stderr=err, env=env,
            )
            killer = threading.Timer(60, p.kill)
            killer.start()
            try:
                # This child's own peak, not the largest child of the whole test run (a
                # moto_server or kmscli serve that another test started and stopped).
                _pid, status, usage = os.wait4(p.pid, 0)
            finally:
                killer.cancel()
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        assert p.returncode == 2 and stdout == b"", stderr
        assert stderr.startswith(b"kmscli: error: ValidationException: ")
        # In KiB: bounded reads, not gigabytes of zeros. Linux counts in a child's peak the
        # memory of this process when it forked (vfork or fork, until exec), so the bound is
        # over this process's own peak: a test run that has grown past 200 MiB is no sign of
        # a reader that read too much.
        inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert usage.ru_maxrss < inherited + 200 * 1024


def test_oversized_literals_are_refused(kms):
    key = create_key(kms)
    clean_failure(kms("encrypt", "--key-id", key, "--plaintext", "x" * 4097), 2)
    clean_failure(kms("decrypt", "--ciphertext-blob", "A" * 20000), 2)


# --- files: output over input, pipes ---------------------------------------------------------


def test_output_path_equal_to_input_path_is_refused(kms, tmp_path):
    key = create_key(kms)
    f = tmp_path / "data"
    f.write_bytes(b"precious")
    os.link(f, tmp_path / "hardlink")
    (tmp_path / "symlink").symlink_to(f)
    for out in (f, tmp_path / "hardlink", tmp_path / "symlink", tmp_path / "." / "data"):
        clean_failure(kms("encrypt", "--key-id", key, "--in", str(f), "--out", str(out)), 2)
        assert f.read_bytes() == b"precious"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kmscli-")]


def test_a_closed_pipe_ends_quietly(kms, keyring_env):
    for _ in range(3):
        create_key(kms)
    # The reader has gone before kmscli writes: EPIPE, no traceback, the conventional status.
    read_end, write_end = os.pipe()
    os.close(read_end)
    p = subprocess.run(
        [sys.executable, "-m", "kmscli", "list-keys"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **keyring_env),
        timeout=60,
    )
    os.close(write_end)
    assert p.returncode == 141, p.stderr
    assert b"Traceback" not in p.stderr and b"Exception ignored" not in p.stderr


# --- the keyring directory itself -------------------------------------------------------------


@pytest.mark.parametrize("case", ["symlink", "world-writable", "group-writable", "other-owner", "keys-world-writable", "not-a-dir"])
def test_an_unsafe_keyring_directory_is_refused(kms, keyring_path, tmp_path, case):
    create_key(kms)
    target = keyring_path
    env = {}
    if case == "symlink":
        link = tmp_path / "link"
        link.symlink_to(keyring_path)
        env = {"KMSCLI_KEYRING": str(link)}
    elif case == "world-writable":
        os.chmod(keyring_path, 0o777)
    elif case == "group-writable":
        os.chmod(keyring_path, 0o770)
    elif case == "other-owner":
        os.chown(keyring_path, 65534, 65534)
    elif case == "keys-world-writable":
        os.chmod(keyring_path / "keys", 0o777)
    elif case == "not-a-dir":
        target = tmp_path / "file"
        target.write_bytes(b"not a keyring")
        env = {"KMSCLI_KEYRING": str(target)}
    before = snapshot(keyring_path)
    for args in (["list-keys"], ["describe-key", "--key-id", "alias/x"], ["create-key"]):
        result = kms(*args, env=env)
        clean_failure(result, 2 if case == "not-a-dir" else 5)  # a file for --keyring: bad input
    assert snapshot(keyring_path) == before
    if case == "symlink":
        assert "symbolic link" in result.stderr


@pytest.mark.parametrize("case", ["symlink", "world-writable", "other-owner"])
def test_init_refuses_an_unsafe_directory(tmp_path, case):
    from conftest import PASSPHRASE, run_in_process

    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    path = real
    if case == "symlink":
        path = tmp_path / "link"
        path.symlink_to(real)
    elif case == "world-writable":
        os.chmod(real, 0o777)
    else:
        os.chown(real, 65534, 65534)
    result = run_in_process(["init", "--scrypt-log2-n", "10"], env={"KMSCLI_KEYRING": str(path), "KMSCLI_PASSPHRASE": PASSPHRASE})
    clean_failure(result, 5)
    assert list(real.iterdir()) == []


@pytest.mark.parametrize("which", ["keyring.toml", "key", "alias bucket"])
def test_an_oversized_keyring_file_is_refused_without_reading_it_all(kms, keyring_path, which):
    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/x", "--target-key-id", key).status == 0
    from lifecycle_util import alias_file

    path = {"keyring.toml": keyring_path / "keyring.toml", "alias bucket": alias_file(keyring_path, "alias/x")}.get(
        which, keyring_path / "keys" / f"{key}.toml"
    )
    with open(path, "ab") as f:  # over its bound: 1 MiB
        f.write(b"#" * ((1 << 20) + 1))
    before = snapshot(keyring_path)
    clean_failure(kms("encrypt", "--key-id", "alias/x", "--plaintext", "x"), 5)
    assert snapshot(keyring_path) == before


def test_a_passphrase_file_of_endless_zeros_is_bounded(kms, keyring_env):
    result = kms("create-key", env={"KMSCLI_PASSPHRASE": None, "KMSCLI_PASSPHRASE_FILE": "/dev/zero"})
    clean_failure(result, 4)  # 64 KiB read, one "line" of zeros: the wrong passphrase
