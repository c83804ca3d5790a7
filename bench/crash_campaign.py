#!/usr/bin/env python3
"""Hundreds of SIGKILL crash trials (issue 7): the code tests/test_crashes.py samples in CI.

    .venv/bin/python bench/crash_campaign.py                 # 100 trials of each op
    .venv/bin/python bench/crash_campaign.py --trials 300 --ops rotate alias --seed 5

Exits 1 at the first trial whose keyring fails a check, naming the trial, its seed and its
directory (kept for inspection); 0 with a summary when every trial passed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from crash_harness import OPS, TrialFailure, run_trials  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100, help="trials per op (default 100)")
    parser.add_argument("--ops", nargs="+", choices=OPS, default=list(OPS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=0.6, help="longest wait before SIGKILL, seconds")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kmscli-crash-"))
    for op in args.ops:
        started = time.monotonic()
        try:
            totals = run_trials(op, args.trials, workdir, seed=args.seed, max_delay=args.max_delay)
        except TrialFailure as e:
            print(f"FAIL {e}", file=sys.stderr)
            return 1
        print(
            f"ok   {op:18} {totals['trials']} trials, {totals['acks']} acknowledged changes, "
            f"{totals['temps_left_by_kill']} kills left a temp file (removed by the next write), "
            f"{totals['no_ack']} killed before the first ack, "
            + (f"{totals['mid_rotation']} killed mid-rotation (finished by the next unlock), " if op == "rotate-master-key" else "")
            + f"{time.monotonic() - started:.0f}s"
        )
    import shutil

    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
