"""kmscli among other Unix tools: pipes that close early, terminals, colours."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

from conftest import ROOT, create_key, make_keyring, run_in_process

ESC = b"\x1b["


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    environment = make_keyring(tmp_path_factory.mktemp("shell") / "keyring")
    kms = lambda *a: run_in_process(a, env=environment)  # noqa: E731
    environment["KEY"] = create_key(kms)
    environment["HMAC_KEY"] = create_key(kms, "HMAC_256")
    environment["EC_KEY"] = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    return environment


def shell(script: str, env: dict) -> subprocess.CompletedProcess:
    """Run a bash pipeline where `kmscli` is this checkout."""
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    script = f'kmscli() {{ "{sys.executable}" -m kmscli "$@"; }}\n{script}'
    return subprocess.run(["bash", "-c", script], capture_output=True, env=full, timeout=60)


def on_terminal(args, env: dict, input_file: str | None = None) -> tuple[int, bytes, str]:
    """Run kmscli with standard output on a pseudo-terminal; returns (status, what the
    terminal showed, stderr)."""
    controller, terminal = pty.openpty()
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    stdin = open(input_file, "rb") if input_file else subprocess.DEVNULL
    try:
        p = subprocess.run(
            [sys.executable, "-m", "kmscli", *args], stdin=stdin, stdout=terminal, stderr=subprocess.PIPE,
            env=full, timeout=60,
        )
    finally:
        os.close(terminal)
        if input_file:
            stdin.close()
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other side is closed and drained
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    return p.returncode, shown, p.stderr.decode()


# --- broken pipes ---------------------------------------------------------------------------


def test_a_reader_that_is_gone_ends_kmscli_quietly(env):
    # `true` exits at once, so kmscli surely writes into a closed pipe.
    p = shell('kmscli list-keys | true; echo "status=${PIPESTATUS[0]}"', env)
    assert p.stderr == b""
    assert p.stdout == b"status=141\n"


def test_head_takes_one_byte_and_kmscli_says_nothing(env):
    p = shell('kmscli list-keys | head -c1; echo " status=${PIPESTATUS[0]}"', env)
    assert p.stderr == b""
    assert re.fullmatch(rb"\{ status=(0|141)\n", p.stdout), p.stdout


def test_a_closed_pipe_on_raw_output_is_quiet_too(env):
    p = shell(f'kmscli encrypt --key-id {env["KEY"]} --plaintext hello --out - | true; echo "status=${{PIPESTATUS[0]}}"', env)
    assert p.stderr == b""
    assert p.stdout == b"status=141\n"


# --- binary to a terminal -------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["encrypt", "--key-id", "{KEY}", "--plaintext", "hello", "--out", "-"],
        ["generate-mac", "--key-id", "{HMAC_KEY}", "--message", "hello", "--mac-algorithm", "HMAC_SHA_256", "--out", "-"],
        ["sign", "--key-id", "{EC_KEY}", "--message", "hello", "--signing-algorithm", "ECDSA_SHA_256", "--out", "-"],
        ["get-public-key", "--key-id", "{EC_KEY}", "--format", "der", "--out", "-"],
        # Random bytes and data keys are binary whatever they happen to be (a printable draw
        # would otherwise be shown, and a secret is never put on a screen by chance).
        ["generate-random", "--number-of-bytes", "1", "--out", "-"],
        ["generate-data-key", "--key-id", "{KEY}", "--number-of-bytes", "1", "--out", "-"],
    ],
)
def test_binary_output_to_a_terminal_is_refused_with_a_hint(args, env):
    status, shown, stderr = on_terminal([a.format(**env) for a in args], env)
    assert status == 2
    assert shown == b""
    assert stderr == (
        "kmscli: error: ValidationException: refusing to write binary output to a terminal\n"
        "kmscli: hint: redirect standard output, or write to a file with --out FILE\n"
    )


def test_binary_plaintext_is_refused_but_text_is_shown(env, tmp_path):
    for plaintext, expected in ((b"\x00\x01binary\xff", None), (b"hello, terminal", b"hello, terminal")):
        (tmp_path / "p").write_bytes(plaintext)
        blob = tmp_path / "blob"
        r = run_in_process(["encrypt", "--key-id", env["KEY"], "--in", tmp_path / "p", "--out", blob], env=env)
        assert r.status == 0, r.stderr
        status, shown, stderr = on_terminal(["decrypt", "--in", str(blob), "--out", "-"], env)
        if expected is None:
            assert (status, shown) == (2, b"")
            assert "refusing to write binary output to a terminal" in stderr
        else:
            assert (status, stderr) == (0, "")
            assert shown == expected


def test_printable_secret_bytes_are_still_refused_on_a_terminal(monkeypatch):
    """The rule is by kind, not by content: bytes that happen to be printable (a random
    draw of "hello") are refused unless they are the user's own plaintext or a PEM."""
    import io as stdio

    from kmscli.cli.io import write_output
    from kmscli.errors import ValidationException

    class Terminal(stdio.TextIOWrapper):
        def isatty(self):
            return True

    shown = stdio.BytesIO()
    monkeypatch.setattr(sys, "stdout", Terminal(shown))
    with pytest.raises(ValidationException, match="binary output to a terminal"):
        write_output("-", b"hello")
    write_output("-", b"hello", may_be_text=True)
    sys.stdout.flush()
    assert shown.getvalue() == b"hello"


def test_raw_output_goes_through_the_one_guarded_writer():
    """Only cli/io.py writes raw bytes to standard output (write_output refuses a terminal),
    so a new command cannot send binary to a terminal by writing around it."""
    offenders = []
    for path in sorted((ROOT / "kmscli").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() in ("kmscli/cli/io.py", "kmscli/cli/stream_io.py"):
            continue  # the two guarded writers: whole results, and streamed files
        text = path.read_text(encoding="utf-8")
        if re.search(r"stdout\.buffer|sys\.__stdout__|os\.write\(\s*1\b|fdopen\(\s*1\b", text):
            offenders.append(path.relative_to(ROOT).as_posix())
    assert offenders == [], "write raw output with kmscli.cli.io.write_output (or a guarded helper there)"


# --- colours ----------------------------------------------------------------------------------


def test_tables_are_styled_on_a_terminal_and_plain_with_no_color(env):
    status, shown, _ = on_terminal(["list-keys", "--output", "table"], {**env, "NO_COLOR": ""})
    assert status == 0 and ESC in shown  # an empty NO_COLOR does not count, as the convention says
    status, shown, stderr = on_terminal(["list-keys", "--output", "table"], {**env, "NO_COLOR": "1"})
    assert (status, stderr) == (0, "")
    assert ESC not in shown
    assert env["KEY"][:8].encode() in shown


def test_tables_are_plain_when_not_on_a_terminal(env):
    p = shell("kmscli list-keys --output table | cat", {**env, "NO_COLOR": ""})
    assert p.returncode == 0 and p.stderr == b""
    assert ESC not in p.stdout
    assert b"KeyId" in p.stdout
