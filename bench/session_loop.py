#!/usr/bin/env python3
"""Time N small `kmscli encrypt` calls with a session against N with KMSCLI_PASSPHRASE.

Public tools only: python3 and the kmscli under test (this checkout, or the one installed).
The floor is Python starting and importing what every call needs anyway:
`python3 -c 'import click, cryptography.hazmat.primitives.ciphers.aead'`.

    python3 bench/session_loop.py            # N = 20, scrypt log2 N = 17 (the default cost)
    python3 bench/session_loop.py -n 50 --scrypt-log2-n 17

It makes a throwaway keyring and runtime directory under a temp dir and removes them.
Per-call means and medians are printed in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd, env, *, check=True) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, env=env, capture_output=True)
    if check and p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr.decode(errors='replace')}")
    return p


def loop(label, cmd, env, n) -> list[float]:
    run(cmd, env)  # warm the page cache and .pyc files: measure steady state
    times = []
    for _ in range(n):
        start = time.perf_counter()
        run(cmd, env)
        times.append(time.perf_counter() - start)
    mean, median = statistics.fmean(times), statistics.median(times)
    print(f"{label:<34} mean {mean * 1000:8.1f} ms   median {median * 1000:8.1f} ms   (n={n})")
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
        print(f"kmscli encrypt, {args.n} calls per loop, scrypt log2 N = {args.scrypt_log2_n}")
        floor = loop(
            "floor: python -c 'import click, aead'",
            [args.python, "-c", "import click, cryptography.hazmat.primitives.ciphers.aead"],
            env,
            args.n,
        )
        session = loop("encrypt with KMSCLI_SESSION", encrypt, with_session, args.n)
        passphrase = loop("encrypt with KMSCLI_PASSPHRASE", encrypt, with_pass, args.n)
        f, s, p = (statistics.fmean(t) * 1000 for t in (floor, session, passphrase))
        print(f"session costs {s - f:+.1f} ms over the floor; the passphrase costs {p - s:+.1f} ms more (scrypt)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
