#!/usr/bin/env python3
"""Time N small `kmscli encrypt` calls with a session against N with KMSCLI_PASSPHRASE.

Public tools only: python3 and the kmscli under test (this checkout, or the one installed).
The floor is Python starting and importing what every call needs anyway:
`python3 -c 'import click, cryptography.hazmat.primitives.ciphers.aead'`.

    python3 bench/session_loop.py            # N = 20, scrypt log2 N = 17 (the default cost)
    python3 bench/session_loop.py -n 50 --scrypt-log2-n 17

It makes a throwaway keyring and runtime directory under a temp dir and removes them.
Per-call mean, median and minimum are printed in milliseconds; the three cases are
interleaved so that other load on the machine weighs on each alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _common import ROOT, run, timed


def interleaved(cases, n) -> dict[str, list[float]]:
    """Each round runs every case once, so that a busy machine slows all cases alike."""
    for _, cmd, env in cases:
        run(cmd, env)  # warm the page cache and write .pyc files: measure steady state
    times = {label: [] for label, _, _ in cases}
    for _ in range(n):
        for label, cmd, env in cases:
            times[label].append(timed(cmd, env))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20, help="calls per loop (default 20)")
    parser.add_argument("--scrypt-log2-n", type=int, default=17, help="scrypt cost of the keyring (default 17)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to run kmscli with")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kmscli-bench-"))
    try:
        runtime = work / "run"
        runtime.mkdir(mode=0o700)
        # PYTHONDONTWRITEBYTECODE would make every call compile kmscli from source, which
        # an installed kmscli never does (pip writes the .pyc files): the warm-up run of
        # each loop writes them (under __pycache__, ignored by git).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("KMSCLI_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            PYTHONPATH=str(ROOT),
            KMSCLI_KEYRING=str(work / "keyring"),
            XDG_RUNTIME_DIR=str(runtime),
        )
        kmscli = [args.python, "-m", "kmscli"]
        with_pass = {**env, "KMSCLI_PASSPHRASE": "benchmark passphrase"}
        run([*kmscli, "init", "--scrypt-log2-n", str(args.scrypt_log2_n)], with_pass)
        key = run([*kmscli, "create-key", "--query", "KeyMetadata.KeyId", "--output", "text"], with_pass)
        key_id = key.stdout.decode().strip()
        line = run([*kmscli, "unlock", "--ttl", "1h"], with_pass).stdout.decode().strip()
        token = line.split("=", 1)[1]
        with_session = {**env, "KMSCLI_SESSION": token}  # no passphrase anywhere

        encrypt = [*kmscli, "encrypt", "--key-id", key_id, "--plaintext", "hello"]
        floor_cmd = [args.python, "-c", "import click, cryptography.hazmat.primitives.ciphers.aead"]
        cases = [
            ("floor: python -c 'import click, aead'", floor_cmd, env),
            ("encrypt with KMSCLI_SESSION", encrypt, with_session),
            ("encrypt with KMSCLI_PASSPHRASE", encrypt, with_pass),
        ]
        print(f"kmscli encrypt, {args.n} calls per case (interleaved), scrypt log2 N = {args.scrypt_log2_n}")
        times = interleaved(cases, args.n)
        for label, values in times.items():
            print(
                f"{label:<38} mean {statistics.fmean(values) * 1000:7.1f} ms"
                f"   median {statistics.median(values) * 1000:7.1f} ms   min {min(values) * 1000:7.1f} ms"
            )
        f, s, p = (statistics.median(v) * 1000 for v in times.values())
        print(f"median: the session costs {s - f:+.1f} ms over the floor; the passphrase {p - s:+.1f} ms more (scrypt)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
