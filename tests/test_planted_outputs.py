"""Secret outputs never reach a file the user did not make (issue 11).

The attack: in a shared directory another user plants a FIFO (or a device, or a link to
one) at the path a script will name as --out; kmscli wrote the decrypt-file plaintext, the
generate-data-key data key or the generate-data-key-pair private key straight into it. And
the path was checked before the unlock but opened after it: a FIFO that vanished meanwhile
let a plain open() create the file with the umask's mode, holding partial plaintext after a
failed decrypt. Now a named output is only ever a 0600 temp file renamed into place, and
anything but a regular file at that path is refused.
"""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from conftest import create_key, run_process

SECRET = b"plaintext for nobody else"


@pytest.fixture
def shared():
    """A shared, sticky directory like /tmp (pytest's own tmp_path is private to us)."""
    import shutil
    import tempfile
    from pathlib import Path

    directory = Path(tempfile.mkdtemp(prefix="kmscli-shared-"))
    os.chmod(directory, 0o1777)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def plant_fifo(directory, name="out"):
    """A FIFO planted by another user (uid 65534) in a shared, sticky directory when we are
    root (as in CI); by ourselves otherwise, which is the same path for kmscli to refuse."""
    path = directory / name
    if os.geteuid() == 0:
        subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "mkfifo", path], check=True)
        assert os.stat(path).st_uid == 65534
    else:
        os.mkfifo(path)
    return path


def nothing_waiting_in(fifo) -> bool:
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return os.read(fd, 4096) == b""
    finally:
        os.close(fd)


@pytest.fixture
def encrypted(kms, tmp_path):
    key = create_key(kms)
    (tmp_path / "plain").write_bytes(SECRET)
    assert kms("encrypt-file", "--key-id", key, "--in", tmp_path / "plain", "--out", tmp_path / "enc").status == 0
    return key, tmp_path / "enc"


@pytest.mark.parametrize(
    "command",
    [
        ["decrypt-file", "--in", "{enc}"],
        ["generate-data-key", "--key-id", "{key}", "--key-spec", "AES_256"],
        ["generate-data-key-pair", "--key-id", "{key}", "--key-pair-spec", "ECC_NIST_P256"],
        ["decrypt", "--ciphertext-blob", "fileb://{blob}"],
    ],
)
@pytest.mark.parametrize("via_link", [False, True])
def test_a_planted_fifo_at_out_is_refused_and_receives_nothing(kms, encrypted, tmp_path, shared, command, via_link):
    key, enc = encrypted
    blob = tmp_path / "blob"
    blob.write_bytes(kms("encrypt", "--key-id", key, "--plaintext", SECRET.decode(), "--output", "json").json()["CiphertextBlob"].encode())
    import base64

    blob.write_bytes(base64.b64decode(blob.read_bytes()))
    fifo = plant_fifo(shared)
    target = fifo
    if via_link:
        target = shared / "link"
        os.symlink(fifo, target)
    args = [a.format(enc=enc, key=key, blob=blob) for a in command]
    # The reader holds the FIFO open (non-blocking), so a writer would not wait for one.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        r = kms(*args, "--out", target)
        assert r.status == 2, r.stderr
        assert "is a FIFO, not a regular file" in r.stderr and "hint: for standard output use --out -" in r.stderr
        assert os.read(reader, 4096) == b""
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_fifo_that_appears_while_the_command_runs_is_not_written_into(kms, encrypted, tmp_path, monkeypatch):
    """The check-then-open race: the path is clean when checked, a FIFO is there when the
    output is committed. The output is never opened by name, so nothing goes into it."""
    _, enc = encrypted
    out = tmp_path / "shared" / "out"
    out.parent.mkdir()
    from kmscli.service import files

    real = files.decrypt_file

    def plant_then_decrypt(*args, **kwargs):
        os.mkfifo(out)
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "decrypt_file", plant_then_decrypt)
    reader = os.open(out.parent, os.O_RDONLY)  # keep a handle to show the directory is ours
    os.close(reader)
    r = kms("decrypt-file", "--in", enc, "--out", out)
    assert r.status == 2 and "appeared while the command ran" in r.stderr
    assert stat.S_ISFIFO(os.lstat(out).st_mode) and nothing_waiting_in(out)
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no temp file left


def test_outputs_are_0600_whatever_the_umask_and_a_failed_decrypt_leaves_nothing(kms_proc, kms, encrypted, tmp_path):
    key, enc = encrypted
    old = os.umask(0)
    try:
        r = kms_proc("decrypt-file", "--in", enc, "--out", tmp_path / "plain.out")
        assert r.status == 0, r.stderr
        assert stat.S_IMODE(os.stat(tmp_path / "plain.out").st_mode) == 0o600
        r = kms_proc("generate-data-key", "--key-id", key, "--key-spec", "AES_256", "--out", tmp_path / "dk")
        assert r.status == 0 and stat.S_IMODE(os.stat(tmp_path / "dk").st_mode) == 0o600
        damaged = tmp_path / "damaged"
        data = bytearray(enc.read_bytes())
        data[-5] ^= 1
        damaged.write_bytes(bytes(data))
        r = kms_proc("decrypt-file", "--in", damaged, "--out", tmp_path / "never")
        assert r.status != 0
        assert not (tmp_path / "never").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".kmscli-")]
    finally:
        os.umask(old)


@pytest.mark.parametrize("path", ["/dev/stdout", "/dev/tty", "/dev/null", "/proc/self/fd/1"])
def test_device_paths_cannot_stand_in_for_standard_output(keyring_env, path):
    """`--out /dev/stdout` (or /dev/tty) went around the rule that binary never goes to a
    terminal. Standard output is `--out -` only, which checks for a terminal."""
    r = run_process(["generate-random", "--number-of-bytes", "16", "--out", path], env=keyring_env)
    assert r.status == 2, r.stderr
    assert r.stdout == b""
    assert "regular file" in r.stderr or "device" in r.stderr


def test_a_link_to_a_regular_file_is_replaced_not_followed(kms, encrypted, tmp_path):
    """A link planted at --out pointing at the user's file: the rename replaces the link;
    the file it pointed at is untouched."""
    _, enc = encrypted
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    link = tmp_path / "out"
    os.symlink(victim, link)
    assert kms("decrypt-file", "--in", enc, "--out", link).status == 0
    assert victim.read_bytes() == b"keep me"
    assert not os.path.islink(link) and link.read_bytes() == SECRET
