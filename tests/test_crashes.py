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


def test_sigkill_lands_inside_master_key_rotations(tmp_path):
    """Kills that leave keyring.toml holding both master keys: the state the recovery is for.
    Without it the rotation trials above could all have landed between two rotations."""
    totals = run_trials("rotate-master-key", 12, tmp_path, seed=7, max_delay=0.4)
    assert totals["mid_rotation"] > 0
