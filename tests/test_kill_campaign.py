"""A seeded sample of bench/kill_campaign.py: SIGTERM or SIGINT at random moments of
encrypt-file and decrypt-file never hangs, never leaves a temp file, and leaves --out
either complete and correct (exit 0) or untouched (exit 130). See tests/kill_harness.py."""

from __future__ import annotations

from kill_harness import CHUNK, run_trials


def test_a_sample_of_kill_trials(tmp_path):
    # Small inputs and shorter delays than the campaign's, to stay quick; the kinds of
    # input (file, fast, slow and quiet pipes), signals and moments are all drawn. Seed 3
    # includes kills while a temp file exists (a discard that leaves it fails this test).
    outcomes = run_trials(12, seed=3, workdir=tmp_path, sizes=[0, 1, CHUNK + 1, 3 * CHUNK], time_scale=0.3)
    assert sum(outcomes.values()) == 12


def test_ctrl_c_while_kmscli_imports_exits_130_without_a_traceback(tmp_path):
    """Found by the campaign: SIGINT in the first ~0.1 s landed in `import click` and
    printed Python's traceback. A click that raises KeyboardInterrupt on import stands in
    for the Ctrl-C, deterministically."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    (tmp_path / "click.py").write_text("raise KeyboardInterrupt\n")
    p = subprocess.run(
        [sys.executable, "-m", "kmscli", "--version"],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])},
    )
    assert p.returncode == 130, p.stderr
    assert p.stderr == b""


def test_sigterm_once_the_output_is_renamed_into_place_is_too_late_to_interrupt(tmp_path, monkeypatch):
    """The commit window: SIGTERM after the rename (while the directory is synced) made the
    command exit 130, "interrupted", with the new --out already in place of the old one.
    Once the rename happened the command has finished; exit 130 must mean --out untouched."""
    import os
    import signal

    from conftest import caller, make_keyring

    from kmscli.cli import stream_io

    kms = caller(make_keyring(tmp_path / "keyring"))
    key = kms("create-key").json()["KeyMetadata"]["KeyId"]
    (tmp_path / "in").write_bytes(b"new content")
    out = tmp_path / "out"
    out.write_bytes(b"old content")
    real_sync = stream_io._sync_directory

    def sync_then_terminated(directory):
        os.kill(os.getpid(), signal.SIGTERM)
        real_sync(directory)

    monkeypatch.setattr(stream_io, "_sync_directory", sync_then_terminated)
    r = kms("encrypt-file", "--key-id", key, "--in", tmp_path / "in", "--out", out)
    monkeypatch.undo()
    assert r.status == 0, r.stderr  # finished: the signal came too late
    assert kms("decrypt-file", "--in", out, "--out", "-").stdout == b"new content"
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".kmscli-")]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_the_console_script_starts_through_the_same_guard():
    """The installed `kmscli` must run kmscli.__main__.run too, not import click first."""
    import tomllib

    from conftest import ROOT

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"kmscli": "kmscli.__main__:run"}
