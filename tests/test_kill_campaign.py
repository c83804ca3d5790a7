"""A seeded sample of bench/kill_campaign.py: SIGTERM or SIGINT at random moments of
encrypt-file and decrypt-file never hangs, never leaves a temp file, and leaves --out
either complete and correct (exit 0) or untouched (exit 130). See tests/kill_harness.py."""

from __future__ import annotations

from kill_harness import CHUNK, run_trials


def test_a_sample_of_kill_trials(tmp_path):
    # Small inputs and shorter delays than the campaign's, to stay quick; the kinds of
    # input (file, fast, slow and quiet pipes), signals and moments are all drawn.
    outcomes = run_trials(12, seed=2024, workdir=tmp_path, sizes=[0, 1, CHUNK + 1, 3 * CHUNK], time_scale=0.3)
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
