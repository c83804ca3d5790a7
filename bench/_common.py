"""What the bench scripts share: the checkout they measure, and a command run to its end.

A script run as `python3 bench/x.py` has bench/ first on sys.path, so `from _common import ...`
finds this file from any working directory."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout: PYTHONPATH of the kmscli measured


def run(cmd, env) -> subprocess.CompletedProcess:
    """``cmd`` run to its end, its output captured. A failure ends the bench with the command
    and its standard error: a figure of a failed command would mean nothing."""
    p = subprocess.run(cmd, env=env, capture_output=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{p.stderr.decode(errors='replace')}")
    return p


def timed(cmd, env) -> float:
    """The wall-clock seconds ``cmd`` took (run as ``run`` does)."""
    start = time.perf_counter()
    run(cmd, env)
    return time.perf_counter() - start
