#!/usr/bin/env python3
"""The cost of creating a key, in user-space instructions, in a small keyring and a large one.

bench/scale.py times the fill of a keyring batch by batch, but on a shared machine its wall
and CPU times move by 2x with the load of other work, which hides a growth of 10 or 20%.
The instructions a process executes do not move with the load: this counts them with
valgrind (callgrind), for a process that creates 10 keys and one that creates 110, and gives
the difference over 100, so that the start-up and the unlock cancel out. Each run adds its keys
to the keyring it is given (120 a keyring: nothing next to 100,000).

    python3 bench/scale.py --sizes 100000 --keep     # a keyring of 100,000 keys (path printed)
    python3 bench/fill_cost.py --large DIR           # against a keyring of 1,000 made here
    python3 bench/fill_cost.py --large DIR --source OTHER_CHECKOUT   # another kmscli's code

Needs valgrind (Debian's package). A process under callgrind runs ~50 times slower: about a
minute a run, four runs. The keyrings must be made by scale.py (its passphrase, scrypt cost).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "scale bench passphrase"  # bench/scale.py's

# The child: open the keyring, unlock, create one key (the imports and first-use costs),
# then the keys that are counted.
CHILD = """
import sys
sys.path.insert(0, sys.argv[4])  # before the current directory, which `python -c` puts first
from pathlib import Path
from kmscli import service  # noqa: F401 - the sweep and the index, as every writer has them
from kmscli.keyring import Keyring
from kmscli.service import keys
keyring = Keyring.open(Path(sys.argv[1]), unlocker=lambda k: k.master_from_passphrase(sys.argv[3].encode()))
keys.create_key(keyring)
for _ in range(int(sys.argv[2])):
    keys.create_key(keyring)
print("(code: " + keys.__file__ + ")", file=sys.stderr)
"""


def instructions(keyring: Path, count: int, source: Path) -> int:
    """User-space instructions of a process that creates ``count`` keys (after one)."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", CHILD,
         str(keyring), str(count), PASSPHRASE, str(source)],
        capture_output=True, text=True, check=True,
    ).stderr
    if f"(code: {source}/kmscli/" not in out:
        sys.exit(f"the child ran another checkout's kmscli than {source}:\n{out[-2000:]}")
    for line in out.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    sys.exit(f"valgrind gave no count:\n{out[-2000:]}")


def per_key(keyring: Path, source: Path) -> float:
    few = instructions(keyring, 10, source)
    more = instructions(keyring, 110, source)
    return (more - few) / 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", required=True, help="a keyring made by bench/scale.py --keep")
    parser.add_argument("--small", help="the small keyring (default: one of 1,000 keys made here)")
    parser.add_argument("--source", default=str(ROOT), help="the kmscli checkout whose code runs (default: this one)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (apt-get install valgrind)")
    source = Path(args.source).resolve()
    work = Path(tempfile.mkdtemp(prefix="kmscli-fill-cost-"))
    try:
        if args.small:
            small = Path(args.small)
        else:
            sys.path.insert(0, str(ROOT))
            from kmscli import service  # noqa: F401
            from kmscli.keyring import Keyring
            from kmscli.service import keys

            small = work / "small"
            keyring = Keyring.create(small, PASSPHRASE.encode(), scrypt_log2_n=10)
            for _ in range(1000):
                keys.create_key(keyring)
        counts = {}
        for name, path in (("small", small), ("large", Path(args.large))):
            size = sum(len(files) for _, _, files in os.walk(path / "keys"))
            counts[name] = per_key(path, source)
            print(f"{name}: {size:,} keys: {counts[name] / 1e6:.2f}M instructions per key created")
        print(f"large / small: {counts['large'] / counts['small']:.2f}x  (code: {source})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
