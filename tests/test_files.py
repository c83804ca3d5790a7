"""encrypt-file / decrypt-file: round trips at the chunk edges, every tampering refused with
no output left behind, wrong keys and contexts, pipes, and public-key-only encryption."""

from __future__ import annotations

import errno
import os
import re
import struct
import threading

import pytest
from conftest import caller, make_keyring, run_in_process, run_process

from kmscli.cli import stream_io
from kmscli.service import fileformat

CHUNK = 1 << fileformat.CHUNK_LOG2_DEFAULT
TAG = 16


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    """One keyring for the module, with the keys the tests share (RSA generation is slow)."""
    kms = caller(make_keyring(tmp_path_factory.mktemp("files") / "keyring"))

    def key(spec="SYMMETRIC_DEFAULT", usage=None):
        args = ["create-key", "--key-spec", spec] + (["--key-usage", usage] if usage else [])
        return kms(*args).json()["KeyMetadata"]["KeyId"]

    kms.sym = key()
    kms.other_sym = key()
    kms.rsa = key("RSA_2048", "ENCRYPT_DECRYPT")
    return kms


def leftovers(directory) -> list[str]:
    return sorted(n for n in os.listdir(directory) if n.startswith(".kmscli-"))


def header_size(data: bytes) -> int:
    return fileformat.header_size(data)


def chunks_of(data: bytes) -> tuple[bytes, list[bytes]]:
    """(header, sealed chunks) of an encrypted file, cut as docs/file-format.md says."""
    h = header_size(data)
    body = data[h:]
    step = CHUNK + TAG
    return data[:h], [body[i : i + step] for i in range(0, len(body), step)] or [b""]


def encrypt(ring, tmp_path, plaintext: bytes, *args, name="plain") -> bytes:
    src = tmp_path / name
    src.write_bytes(plaintext)
    out = tmp_path / f"{name}.kms"
    r = ring("encrypt-file", "--key-id", ring.sym, "--in", src, "--out", out, *args)
    assert r.status == 0, r.stderr
    return out.read_bytes()


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_round_trip_at_chunk_edges(ring, tmp_path, size):
    plaintext = os.urandom(size)
    src, enc, dec = tmp_path / "in", tmp_path / "in.kms", tmp_path / "out"
    src.write_bytes(plaintext)
    r = ring("encrypt-file", "--key-id", ring.sym, "--in", src, "--out", enc, "--encryption-context", "purpose=test")
    assert r.status == 0, r.stderr
    assert r.stderr == ""
    result = r.json()
    assert result["KeyId"].endswith(ring.sym)
    assert result["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert result["PlaintextSize"] == size
    # One tag per chunk; a full last chunk has no empty chunk after it.
    n_chunks = max(1, -(-size // CHUNK))
    data = enc.read_bytes()
    assert len(data) == header_size(data) + size + n_chunks * TAG
    # Below 16 bytes a random plaintext can turn up in the ciphertext by chance; from 16 up
    # the odds are nil, so seeing it there means it was written in the clear.
    if size >= 16:
        assert plaintext[:64] not in data[header_size(data):]

    r = ring("decrypt-file", "--in", enc, "--out", dec, "--encryption-context", "purpose=test")
    assert r.status == 0, r.stderr
    assert r.json()["PlaintextSize"] == size
    assert dec.read_bytes() == plaintext
    assert oct(dec.stat().st_mode & 0o777) == "0o600"
    assert leftovers(tmp_path) == []


def test_each_file_gets_a_fresh_data_key_salt_and_nonce_prefix(ring, tmp_path):
    a = encrypt(ring, tmp_path, b"same bytes", name="a")
    b = encrypt(ring, tmp_path, b"same bytes", name="b")
    ha, hb = fileformat.read_header(_reader(a)), fileformat.read_header(_reader(b))
    assert ha.salt != hb.salt and ha.nonce_prefix != hb.nonce_prefix and ha.wrapped_key != hb.wrapped_key
    assert a[header_size(a):] != b[header_size(b):]


def test_rsa_key_in_the_keyring_round_trip(ring, tmp_path):
    plaintext = os.urandom(CHUNK + 3)
    (tmp_path / "in").write_bytes(plaintext)
    r = ring("encrypt-file", "--key-id", ring.rsa, "--in", tmp_path / "in", "--out", tmp_path / "in.kms")
    assert r.json()["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    r = ring("decrypt-file", "--in", tmp_path / "in.kms", "--out", tmp_path / "out")
    assert r.status == 0, r.stderr
    assert r.json()["KeyId"].endswith(ring.rsa)
    assert (tmp_path / "out").read_bytes() == plaintext


def test_rsa_key_refuses_an_encryption_context(ring, tmp_path):
    (tmp_path / "in").write_bytes(b"x")
    r = ring("encrypt-file", "--key-id", ring.rsa, "--in", tmp_path / "in", "--out", tmp_path / "o", "--encryption-context", "a=b")
    assert r.status == 2
    assert "ValidationException" in r.stderr and r.stdout == b""
    assert not (tmp_path / "o").exists() and leftovers(tmp_path) == []


def _reader(data: bytes):
    import io

    return io.BytesIO(data)


# --- tampering: refused, and no output file is left -----------------------------------------


def _tampered_cases(original: bytes, other: bytes) -> dict[str, bytes]:
    header, chunks = chunks_of(original)
    _, other_chunks = chunks_of(other)
    assert len(chunks) == 4 and len(other_chunks) == 4
    flipped_chunk = bytearray(original)
    flipped_chunk[header_size(original) + 1000] ^= 0x01
    return {
        "truncated at a chunk boundary": header + b"".join(chunks[:3]),
        "truncated inside a chunk": original[:-100],
        "truncated to the header": header,
        "truncated inside the header": header[:-1],
        "empty": b"",
        "chunks reordered": header + chunks[1] + chunks[0] + chunks[2] + chunks[3],
        "chunk from another file": header + chunks[0] + other_chunks[1] + chunks[2] + chunks[3],
        "last chunk from another file": header + b"".join(chunks[:3]) + other_chunks[3],
        "trailing byte": original + b"\x00",
        "trailing chunk": original + os.urandom(CHUNK + TAG),
        "trailing empty chunk": original + os.urandom(TAG),
        "chunk duplicated": header + chunks[0] + chunks[0] + chunks[1] + chunks[2] + chunks[3],
        "bit flipped in a chunk": bytes(flipped_chunk),
        "header of another file": chunks_of(other)[0] + b"".join(chunks),
    }


@pytest.fixture(scope="module")
def tamper_files(ring, tmp_path_factory):
    d = tmp_path_factory.mktemp("tamper")
    plaintext = os.urandom(3 * CHUNK + 77)
    original = encrypt(ring, d, plaintext, "--encryption-context", "k=v", name="one")
    other = encrypt(ring, d, plaintext, "--encryption-context", "k=v", name="two")
    return plaintext, original, other




def _case_names():
    return [
        "truncated at a chunk boundary",
        "truncated inside a chunk",
        "truncated to the header",
        "truncated inside the header",
        "empty",
        "chunks reordered",
        "chunk from another file",
        "last chunk from another file",
        "trailing byte",
        "trailing chunk",
        "trailing empty chunk",
        "chunk duplicated",
        "bit flipped in a chunk",
        "header of another file",
    ]


def assert_refused_without_output(r, out_dir, out_path, *, status=3, error="InvalidCiphertextException"):
    assert r.status == status, r.stderr
    assert r.stdout == b""
    assert r.stderr.startswith(f"kmscli: error: {error}: ")
    assert "Traceback" not in r.stderr
    assert not out_path.exists()
    assert leftovers(out_dir) == []


@pytest.mark.parametrize("case", _case_names())
def test_tampered_file_is_refused_and_leaves_no_output(ring, tmp_path, tamper_files, case):
    plaintext, original, other = tamper_files
    data = _tampered_cases(original, other)[case]
    src, out = tmp_path / "bad.kms", tmp_path / "out"
    src.write_bytes(data)
    r = ring("decrypt-file", "--in", src, "--out", out, "--encryption-context", "k=v")
    assert_refused_without_output(r, tmp_path, out)


def test_untampered_control_decrypts(ring, tmp_path, tamper_files):
    """The tampering cases above start from a file that does decrypt."""
    plaintext, original, _ = tamper_files
    (tmp_path / "ok.kms").write_bytes(original)
    r = ring("decrypt-file", "--in", tmp_path / "ok.kms", "--out", tmp_path / "out", "--encryption-context", "k=v")
    assert r.status == 0, r.stderr
    assert (tmp_path / "out").read_bytes() == plaintext


def test_every_header_bit_flip_is_refused(ring, tmp_path):
    original = encrypt(ring, tmp_path, b"a short secret", "--encryption-context", "k=v")
    h = header_size(original)
    src, out = tmp_path / "bad.kms", tmp_path / "out"
    for offset in range(h):
        for bit in (0x01, 0x80):
            data = bytearray(original)
            data[offset] ^= bit
            src.write_bytes(bytes(data))
            r = ring("decrypt-file", "--in", src, "--out", out, "--encryption-context", "k=v")
            assert r.status == 3 and "InvalidCiphertextException" in r.stderr, (offset, bit, r.stderr)
            assert r.stdout == b"", (offset, bit)
            assert not out.exists() and leftovers(tmp_path) == [], (offset, bit)


def test_failed_decrypt_leaves_an_existing_output_untouched(ring, tmp_path, tamper_files):
    _, original, other = tamper_files
    src, out = tmp_path / "bad.kms", tmp_path / "out"
    src.write_bytes(_tampered_cases(original, other)["truncated at a chunk boundary"])
    out.write_bytes(b"precious")
    r = ring("decrypt-file", "--in", src, "--out", out, "--encryption-context", "k=v")
    assert r.status == 3
    assert out.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []


# --- keys and contexts -----------------------------------------------------------------------


def test_wrong_or_missing_context_is_refused(ring, tmp_path):
    enc = tmp_path / "f.kms"
    enc.write_bytes(encrypt(ring, tmp_path, b"data", "--encryption-context", "k=v"))
    for context in (["--encryption-context", "k=w"], [], ["--encryption-context", "k=v", "--encryption-context", "x=y"]):
        r = ring("decrypt-file", "--in", enc, "--out", tmp_path / "out", *context)
        assert_refused_without_output(r, tmp_path, tmp_path / "out")


def test_wrong_key_id_is_refused(ring, tmp_path):
    enc = tmp_path / "f.kms"
    enc.write_bytes(encrypt(ring, tmp_path, b"data"))
    r = ring("decrypt-file", "--key-id", ring.other_sym, "--in", enc, "--out", tmp_path / "out")
    assert_refused_without_output(r, tmp_path, tmp_path / "out", error="IncorrectKeyException")
    assert "kmscli: hint: omit --key-id" in r.stderr
    assert f"the file was not encrypted under key {ring.other_sym}" in r.stderr
    assert "hint: omit --key-id: the file names its own key" in r.stderr
    r = ring("decrypt-file", "--key-id", ring.sym, "--in", enc, "--out", tmp_path / "out")
    assert r.status == 0, r.stderr


def test_file_from_another_keyring_is_refused(ring, tmp_path, kms):
    """Another keyring has no such key: the same opaque refusal as decrypt."""
    enc = tmp_path / "f.kms"
    enc.write_bytes(encrypt(ring, tmp_path, b"data"))
    r = kms("decrypt-file", "--in", enc, "--out", tmp_path / "out")
    assert_refused_without_output(r, tmp_path, tmp_path / "out")


def test_disabled_key_and_missing_key_refuse_encryption(ring, tmp_path):
    (tmp_path / "in").write_bytes(b"data")
    r = ring("encrypt-file", "--key-id", "alias/nope", "--in", tmp_path / "in", "--out", tmp_path / "o")
    assert_refused_without_output(r, tmp_path, tmp_path / "o", error="NotFoundException")


def test_signing_key_is_not_an_encryption_key(ring, tmp_path):
    key = ring("create-key", "--key-spec", "ECC_NIST_P256").json()["KeyMetadata"]["KeyId"]
    (tmp_path / "in").write_bytes(b"data")
    r = ring("encrypt-file", "--key-id", key, "--in", tmp_path / "in", "--out", tmp_path / "o")
    assert_refused_without_output(r, tmp_path, tmp_path / "o", error="InvalidKeyUsageException")


# --- paths, pipes, terminals ------------------------------------------------------------------


def test_output_equal_to_input_is_refused(ring, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"keep me")
    os.symlink(src, tmp_path / "link")
    for out in (src, tmp_path / "link", tmp_path / "." / "f"):
        for command in (["encrypt-file", "--key-id", ring.sym], ["decrypt-file"]):
            r = ring(*command, "--in", src, "--out", out)
            assert r.status == 2, r.stderr
            assert "is the input file" in r.stderr and r.stdout == b""
    assert src.read_bytes() == b"keep me"


def test_missing_input_and_unwritable_output(ring, tmp_path):
    r = ring("encrypt-file", "--key-id", ring.sym, "--in", tmp_path / "absent", "--out", tmp_path / "o")
    assert r.status == 5 and "FileAccessException" in r.stderr
    (tmp_path / "in").write_bytes(b"x")
    r = ring("encrypt-file", "--key-id", ring.sym, "--in", tmp_path / "in", "--out", tmp_path / "no-dir" / "o")
    assert r.status == 5 and "FileAccessException" in r.stderr and r.stdout == b""


def test_a_fifo_or_device_named_as_the_output_is_refused(ring, tmp_path):
    """Issue 11: a FIFO planted at --out received the plaintext. Now a named output is only
    ever a new regular file; a pipe or device is reached through --out - and a redirect."""
    (tmp_path / "in").write_bytes(b"secret plaintext")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for out in (fifo, os.devnull):
        r = ring("encrypt-file", "--key-id", ring.sym, "--in", tmp_path / "in", "--out", out)
        assert r.status == 2 and "ValidationException" in r.stderr and "regular file" in r.stderr
        assert "--out -" in r.stderr  # the hint names the way that cannot be planted
    assert os.path.exists(fifo) and not os.path.isfile(fifo)
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)
    assert leftovers(tmp_path) == []


def test_stdin_to_stdout_in_process(ring):
    plaintext = os.urandom(CHUNK + 10)
    r = ring("encrypt-file", "--key-id", ring.sym, "--in", "-", "--out", "-", input=plaintext)
    assert r.status == 0, r.stderr
    assert r.stdout.startswith(fileformat.MAGIC) and r.stderr == ""
    back = ring("decrypt-file", "--in", "-", "--out", "-", input=r.stdout)
    assert back.status == 0, back.stderr
    assert back.stdout == plaintext


def test_pipe_through_real_processes(ring, tmp_path):
    plaintext = os.urandom(2 * CHUNK + 1)
    enc = run_process(["encrypt-file", "--key-id", ring.sym, "--in", "-", "--out", "-"], input=plaintext, env=ring.env)
    assert enc.status == 0, enc.stderr
    dec = run_process(["decrypt-file", "--in", "-", "--out", "-"], input=enc.stdout, env=ring.env)
    assert dec.status == 0, dec.stderr
    assert dec.stdout == plaintext and dec.stderr == ""


def test_stdout_gets_only_authenticated_chunks_of_a_truncated_stream(ring, tamper_files):
    """To stdout, chunks are released as they authenticate; a truncated stream stops at the
    last whole chunk before the cut and the command fails."""
    plaintext, original, other = tamper_files
    truncated = _tampered_cases(original, other)["truncated at a chunk boundary"]
    r = run_process(["decrypt-file", "--in", "-", "--out", "-", "--encryption-context", "k=v"], input=truncated, env=ring.env)
    assert r.status == 3
    assert "InvalidCiphertextException" in r.stderr
    # The third chunk (the new end) was sealed as "not last": only the first two are released.
    assert r.stdout == plaintext[: 2 * CHUNK]


def _pty_run(args, env, *, stdout_tty=False, stderr_tty=True):
    """Run kmscli with stdout and/or stderr on a pseudo-terminal; returns (status, stdout, tty text)."""
    import pty
    import subprocess
    import sys

    from conftest import ROOT

    master, slave = pty.openpty()
    full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "TERM": "xterm"}
    p = subprocess.Popen(
        [sys.executable, "-m", "kmscli", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=slave if stderr_tty else subprocess.PIPE,
        env=full_env,
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        seen += data
    out = p.stdout.read() if p.stdout else b""
    status = p.wait(timeout=60)
    os.close(master)
    return status, out, seen.decode("utf-8", "replace")


def test_progress_bar_only_on_a_terminal_and_not_with_quiet(ring, tmp_path):
    big = tmp_path / "big"
    with open(big, "wb") as f:
        f.truncate(40 << 20)  # past the threshold; sparse, so cheap
    status, _, tty = _pty_run(["encrypt-file", "--key-id", ring.sym, "--in", big, "--out", tmp_path / "big.kms"], ring.env)
    assert status == 0, tty
    assert "kmscli: encrypting" in tty
    # One unit system (IEC), and an ETA: rich's own columns said "0.2/1.4 GiB 361.6 MB/s".
    assert re.search(r"\d+\.\d/40\.0 MiB  (\?|\d+(\.\d)? (bytes|KiB|MiB|GiB))/s  ETA (-:--:--|\d+:\d\d:\d\d)", tty), tty
    assert not re.search(r"\d ?(kB|MB|GB)\b", tty), tty
    status, _, tty = _pty_run(
        ["encrypt-file", "--quiet", "--key-id", ring.sym, "--in", big, "--out", tmp_path / "big2.kms"], ring.env
    )
    assert status == 0 and tty == ""
    r = run_process(["encrypt-file", "--key-id", ring.sym, "--in", big, "--out", tmp_path / "big3.kms"], env=ring.env)
    assert r.status == 0 and r.stderr == ""  # not a terminal: no bar
    assert (tmp_path / "big.kms").stat().st_size == (tmp_path / "big3.kms").stat().st_size


def test_binary_ciphertext_is_not_written_to_a_terminal(ring, tmp_path):
    (tmp_path / "in").write_bytes(b"data")
    status, _, tty = _pty_run(
        ["encrypt-file", "--key-id", ring.sym, "--in", tmp_path / "in", "--out", "-"], ring.env, stdout_tty=True, stderr_tty=False
    )
    assert status == 2
    assert "kmsclisf" not in tty


# --- encryption with the public key alone -----------------------------------------------------


@pytest.fixture(scope="module")
def rsa_pem(ring, tmp_path_factory):
    path = tmp_path_factory.mktemp("pem") / "rsa.pem"
    r = ring("get-public-key", "--key-id", ring.rsa, "--out", path)
    assert r.status == 0, r.stderr
    return path


NO_KEYRING = {"KMSCLI_PASSPHRASE": None, "KMSCLI_KEYRING": "/nonexistent/kmscli-keyring"}


def test_public_key_only_encryption_is_opened_by_the_keyring(ring, rsa_pem, tmp_path):
    plaintext = os.urandom(CHUNK + 12345)
    (tmp_path / "in").write_bytes(plaintext)
    r = run_in_process(
        ["encrypt-file", "--public-key", rsa_pem, "--in", tmp_path / "in", "--out", tmp_path / "in.kms"], env=NO_KEYRING
    )
    assert r.status == 0, r.stderr
    assert r.json()["KeyId"].endswith(ring.rsa)
    assert r.json()["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert not os.path.exists("/nonexistent/kmscli-keyring")
    d = ring("decrypt-file", "--in", tmp_path / "in.kms", "--out", tmp_path / "out")
    assert d.status == 0, d.stderr
    assert (tmp_path / "out").read_bytes() == plaintext
    d = ring("decrypt-file", "--key-id", ring.sym, "--in", tmp_path / "in.kms", "--out", tmp_path / "out2")
    assert d.status == 3 and "IncorrectKeyException" in d.stderr


def test_public_key_of_a_signing_key_is_refused(ring, tmp_path):
    key = ring("create-key", "--key-spec", "ECC_NIST_P256").json()["KeyMetadata"]["KeyId"]
    ring("get-public-key", "--key-id", key, "--out", tmp_path / "sig.pem")
    (tmp_path / "in").write_bytes(b"x")
    r = run_in_process(
        ["encrypt-file", "--public-key", tmp_path / "sig.pem", "--in", tmp_path / "in", "--out", tmp_path / "o"], env=NO_KEYRING
    )
    assert_refused_without_output(r, tmp_path, tmp_path / "o", error="InvalidKeyUsageException")
    assert "SIGN_VERIFY" in r.stderr


def test_public_key_without_configuration_is_refused(rsa_pem, tmp_path):
    bare = rsa_pem.read_bytes()
    bare = bare[bare.index(b"-----BEGIN") :]
    (tmp_path / "bare.pem").write_bytes(bare)
    (tmp_path / "in").write_bytes(b"x")
    r = run_in_process(
        ["encrypt-file", "--public-key", tmp_path / "bare.pem", "--in", tmp_path / "in", "--out", tmp_path / "o"], env=NO_KEYRING
    )
    assert_refused_without_output(r, tmp_path, tmp_path / "o", status=2, error="ValidationException")
    assert "KeyId" in r.stderr and "hint: export the key" in r.stderr


def test_public_key_and_key_id_are_exclusive(ring, rsa_pem, tmp_path):
    (tmp_path / "in").write_bytes(b"x")
    for extra in ([], ["--key-id", ring.sym, "--public-key", rsa_pem]):
        r = ring("encrypt-file", "--in", tmp_path / "in", "--out", tmp_path / "o", *extra)
        assert r.status == 2 and "exactly one of --key-id and --public-key" in r.stderr
    r = run_in_process(
        ["encrypt-file", "--public-key", rsa_pem, "--in", tmp_path / "in", "--out", tmp_path / "o", "--encryption-context", "a=b"],
        env=NO_KEYRING,
    )
    assert r.status == 2 and not (tmp_path / "o").exists()


class FillingDisk:
    """An output file on a disk that fills up after ``room`` bytes; notes which thread wrote."""

    def __init__(self, file, room: int):
        self.file, self.room, self.threads = file, room, set()

    def write(self, data) -> int:
        self.threads.add(threading.current_thread().name)
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)


@pytest.mark.parametrize("command", ["encrypt-file", "decrypt-file"])
def test_a_disk_that_fills_up_mid_stream_changes_nothing(ring, tmp_path, monkeypatch, command):
    """The background writer meets ENOSPC after two chunks: exit 5, the old output kept,
    no temp file, and the writer's thread gone."""
    plaintext = os.urandom(4 * CHUNK + 3)
    src = tmp_path / "in"
    src.write_bytes(encrypt(ring, tmp_path, plaintext) if command == "decrypt-file" else plaintext)
    out = tmp_path / "out"
    out.write_bytes(b"the old output")
    disks = []
    real_open = stream_io.FileOutput._open

    def open_on_a_small_disk(self):
        real_open(self)
        self.file = FillingDisk(self.file, 2 * CHUNK + 100)
        disks.append(self.file)

    monkeypatch.setattr(stream_io.FileOutput, "_open", open_on_a_small_disk)
    args = ["--key-id", ring.sym] if command == "encrypt-file" else []
    r = ring(command, *args, "--in", src, "--out", out)
    monkeypatch.undo()
    assert r.status == 5, r.stderr
    assert "FileAccessException" in r.stderr and "No space left on device" in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2  # the error and its hint, no traceback
    assert out.read_bytes() == b"the old output"
    assert leftovers(tmp_path) == []
    assert disks[0].threads == {"kmscli-writer"}  # the chunks were written off the main thread
    assert not [t for t in threading.enumerate() if t.name == "kmscli-writer"]


def test_sigterm_removes_the_temp_file(ring, tmp_path):
    """kill (SIGTERM) while the output is half written: nothing is left behind."""
    import subprocess
    import sys
    import time

    from conftest import ROOT

    env = {**os.environ, **ring.env, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "out.kms"
    p = subprocess.Popen(
        [sys.executable, "-m", "kmscli", "encrypt-file", "--key-id", ring.sym, "--in", "-", "--out", out],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        p.stdin.write(os.urandom(CHUNK + 1))  # the header is written; it waits for the rest
        p.stdin.flush()
        deadline = time.monotonic() + 30
        while not leftovers(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers(tmp_path), "the temp file never appeared"
        p.terminate()
        status = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        p.stdin.close()
    assert status == 130
    assert leftovers(tmp_path) == [] and not out.exists()
    assert p.stdout.read() == b""


def test_decrypt_to_a_terminal_shows_text_and_refuses_binary(ring, tmp_path):
    text = encrypt(ring, tmp_path, "héllo, wörld\n".encode() * 10, name="text")
    (tmp_path / "text.kms").write_bytes(text)
    status, _, tty = _pty_run(["decrypt-file", "--in", tmp_path / "text.kms", "--out", "-"], ring.env, stdout_tty=True, stderr_tty=False)
    assert status == 0
    assert "héllo, wörld" in tty
    binary = encrypt(ring, tmp_path, b"\x1b[2J\x00\xff", name="bin")
    (tmp_path / "bin.kms").write_bytes(binary)
    status, _, tty = _pty_run(["decrypt-file", "--in", tmp_path / "bin.kms", "--out", "-"], ring.env, stdout_tty=True, stderr_tty=False)
    assert status == 2
    assert "\x1b[2J" not in tty


def test_rich_is_not_imported_without_a_progress_bar(ring, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    (tmp_path / "in").write_bytes(os.urandom(1000))
    code = (
        "import sys; from kmscli.cli.main import main; "
        f"status = main(['encrypt-file', '--key-id', '{ring.sym}', '--in', sys.argv[1], '--out', sys.argv[2]]); "
        "print(status, 'rich' in sys.modules, file=sys.stderr)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, tmp_path / "in", tmp_path / "out"],
        capture_output=True,
        env={**os.environ, **ring.env, "PYTHONPATH": str(ROOT)},
    )
    assert p.stderr.decode().strip() == "0 False"


def _peak_rss_mib(ring, args, stdout=None) -> float:
    """Peak resident memory of one kmscli run, measured inside that process."""
    import subprocess
    import sys

    from conftest import ROOT

    # VmHWM, not getrusage's ru_maxrss: the latter survives exec and so counts the forked
    # pytest process's memory too.
    code = (
        "import sys; from kmscli.cli.main import main; status = main(sys.argv[1:]); "
        "sys.stdout.flush(); "
        "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]; "
        "print(status, hwm, file=sys.stderr)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **ring.env, "PYTHONPATH": str(ROOT)},
    )
    status, peak_kib = p.stderr.decode().split()[-2:]
    assert status == "0", p.stderr
    return int(peak_kib) / 1024


def test_memory_stays_constant_whatever_the_size(ring, tmp_path):
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_bytes(b"x")
    with open(big, "wb") as f:
        f.truncate(256 << 20)  # sparse: cheap to make and to read
    base = _peak_rss_mib(ring, ["encrypt-file", "--key-id", ring.sym, "--in", small, "--out", "-"])
    peak = _peak_rss_mib(ring, ["encrypt-file", "--key-id", ring.sym, "--in", big, "--out", "-"])
    assert peak < 64, (base, peak)
    assert peak - base < 8, (base, peak)  # three 1 MiB buffers and change, not the input


def test_a_signal_caught_by_another_thread_still_ends_a_read_of_a_quiet_pipe():
    """The race behind a hang: the signal's C handler runs, but not in the thread blocked in
    read(2), which is therefore never interrupted. Here it is made certain: the main thread
    blocks SIGUSR1 and a helper thread takes it. PipeInput must still let the Python handler
    run within about POLL_SECONDS, long before the helper's fallback write at 5 s."""
    import signal
    import time

    class Stopped(Exception):
        pass

    def stop(signum, frame):
        raise Stopped()

    r, w = os.pipe()
    previous_handler = signal.signal(signal.SIGUSR1, stop)
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    done = threading.Event()

    def helper():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})  # the only taker
        time.sleep(0.3)
        os.kill(os.getpid(), signal.SIGUSR1)
        done.wait(5)
        os.write(w, b"x")  # without PipeInput the read ends only here

    thread = threading.Thread(target=helper, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(Stopped):
            stream_io.PipeInput(r).readinto(memoryview(bytearray(16)))
        assert time.monotonic() - started < 3
    finally:
        done.set()
        thread.join()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        signal.signal(signal.SIGUSR1, previous_handler)
        os.close(r)
        os.close(w)


def test_pipe_input_reads_as_a_buffered_file_would():
    r, w = os.pipe()
    os.write(w, b"abcdef")
    os.close(w)
    pipe = stream_io.PipeInput(r)
    assert pipe.read(4) == b"abcd"
    buf = bytearray(10)
    assert pipe.readinto(memoryview(buf)) == 2 and buf[:2] == b"ef"
    assert pipe.read(4) == b"" and pipe.readinto(memoryview(buf)) == 0
    os.close(r)
    r, w = os.pipe()
    os.write(w, b"to the end")
    os.close(w)
    assert stream_io.PipeInput(r).read() == b"to the end"
    os.close(r)


@pytest.mark.parametrize(
    ("done", "total", "speed", "remaining", "shown"),
    [
        (0.2 * 2**30, 1.4 * 2**30, 361.6 * 2**20, 3.4, "0.2/1.4 GiB  361.6 MiB/s  ETA 0:00:03"),
        (5 << 20, 40 << 20, None, None, "5.0/40.0 MiB  ?/s  ETA -:--:--"),
        (512, 900, 50, 3700, "512/900 bytes  50 bytes/s  ETA 1:01:40"),
        (1 << 40, 1 << 41, 1536 << 10, 0, "1.0/2.0 TiB  1.5 MiB/s  ETA 0:00:00"),
    ],
)
def test_the_progress_text_speaks_one_unit_system_and_gives_an_eta(done, total, speed, remaining, shown):
    from kmscli.cli.render import transfer_text

    assert transfer_text(done, total, speed, remaining) == shown
