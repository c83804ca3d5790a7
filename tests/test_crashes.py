"""SIGKILL at random moments during create-key, rotation, alias changes and
change-passphrase: a small sample here; bench/crash_campaign.py runs hundreds with the
same code (tests/crash_harness.py, which documents the checks)."""

from __future__ import annotations

import os

import pytest
from crash_harness import OPS, run_trials

TRIALS = 5


@pytest.mark.parametrize("op", OPS)
def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path, op):
    totals = run_trials(op, TRIALS, tmp_path, seed=int(os.environ.get("KMSCLI_CRASH_SEED", "0")))
    assert totals["trials"] == TRIALS
    assert totals["acks"] > 0  # the kills landed while changes were being made
