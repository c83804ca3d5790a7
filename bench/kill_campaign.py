#!/usr/bin/env python3
"""SIGTERM / SIGINT at random moments of encrypt-file and decrypt-file (tests/kill_harness.py
says what a trial does and checks); tests/test_kill_campaign.py samples it in CI.

    python bench/kill_campaign.py --trials 300
    python bench/kill_campaign.py --trials 200 --seed 7 --keep

Exits 1 at the first violated trial, naming it (a hang includes the faulthandler stacks);
0 with one summary line per outcome kind when every trial passed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from kill_harness import TrialFailure, run_trials  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--verbose", "-v", action="store_true", help="a line per trial")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kmscli-kill-"))
    started = time.monotonic()
    report = (lambda n, kind: print(f"  {n:4} {kind}", flush=True)) if args.verbose else None
    try:
        outcomes = run_trials(args.trials, seed=args.seed, workdir=workdir, report=report)
    except TrialFailure as e:
        print(f"FAIL (seed {args.seed}, work directory {workdir})\n{e}", file=sys.stderr)
        return 1
    for kind, count in sorted(outcomes.items()):
        print(f"{count:5}  {kind}")
    print(f"ok   {args.trials} trials, seed {args.seed}, {time.monotonic() - started:.0f}s")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
