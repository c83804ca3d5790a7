#!/usr/bin/env bash
# Start-up time of kmscli against the floor every Python tool pays:
#   python -c 'import click, cryptography.hazmat.primitives.ciphers.aead'
# Target: kmscli --version, kmscli list-keys and a small encrypt each within 1.3x of it.
#
#   bench/startup.sh                 # hyperfine if installed, else a Python timing loop
#   RUNS=50 STRICT=1 bench/startup.sh   # STRICT=1: exit 1 when a target is missed
#   PYTHON=/path/to/python bench/startup.sh
#   TOOL="python loop" bench/startup.sh  # interleaved runs: fairer on a busy machine
#
# The encrypt is measured the cheapest way a script can run it: with a session
# (eval "$(kmscli unlock)") when this kmscli has `unlock`, otherwise with KMSCLI_PASSPHRASE on
# a keyring made at the lowest scrypt cost (log2 N = 10), which the table then says.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then PYTHON="$root/.venv/bin/python"; else PYTHON=python3; fi
fi
RUNS="${RUNS:-30}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Bytecode as an installed kmscli has it (pip compiles on install): without it every run
# would compile every module again, and PYTHONDONTWRITEBYTECODE=1 would keep it so.
"$PYTHON" -m compileall -q "$root/kmscli"

# `kmscli` is this checkout, run by $PYTHON: a wrapper as small as a console script.
mkdir -p "$work/bin"
cat >"$work/bin/kmscli" <<EOF
#!$PYTHON
import sys
sys.path.insert(0, "$root")
from kmscli.__main__ import run
run()
EOF
chmod +x "$work/bin/kmscli"
export PATH="$work/bin:$PATH"
export KMSCLI_KEYRING="$work/keyring" KMSCLI_PASSPHRASE="bench passphrase"
unset KMSCLI_SESSION KMSCLI_PASSPHRASE_FILE KMSCLI_OUTPUT KMSCLI_DEBUG

kmscli init --scrypt-log2-n 10 >/dev/null
key="$(kmscli create-key --query KeyMetadata.KeyId --output text)"
kmscli create-key >/dev/null  # list-keys lists more than one key

encrypt_mode="passphrase (scrypt log2 N = 10; no 'kmscli unlock' in this build)"
if kmscli unlock --help >/dev/null 2>&1; then
  eval "$(kmscli unlock)"
  unset KMSCLI_PASSPHRASE
  encrypt_mode="session (kmscli unlock)"
fi

export BENCH_FLOOR="$PYTHON -c 'import click, cryptography.hazmat.primitives.ciphers.aead'"
export BENCH_VERSION="kmscli --version"
export BENCH_LIST="kmscli list-keys"
export BENCH_ENCRYPT="kmscli encrypt --key-id $key --plaintext hello"
export BENCH_TOOL="${TOOL:-}" BENCH_ENCRYPT_MODE="$encrypt_mode" BENCH_RUNS="$RUNS" BENCH_WORK="$work" BENCH_STRICT="${STRICT:-0}"

# Each command must succeed before it is timed: a fast failure is not a fast command.
for var in BENCH_VERSION BENCH_LIST BENCH_ENCRYPT; do
  bash -c "${!var}" >/dev/null
done

"$PYTHON" - <<'EOF'
import json, os, shutil, statistics, subprocess, sys, time

runs = int(os.environ["BENCH_RUNS"])
names = {
    "floor": os.environ["BENCH_FLOOR"],
    "--version": os.environ["BENCH_VERSION"],
    "list-keys": os.environ["BENCH_LIST"],
    "encrypt": os.environ["BENCH_ENCRYPT"],
}
TARGET = 1.3

def with_hyperfine():
    out = os.path.join(os.environ["BENCH_WORK"], "hyperfine.json")
    # One hyperfine run for all four, so that they share warm caches and the same machine.
    subprocess.run(
        ["hyperfine", "--shell=none", "--warmup", "3", "--runs", str(runs), "--style", "none",
         "--export-json", out, *names.values()],
        check=True, stdout=subprocess.DEVNULL,
    )
    results = json.load(open(out))["results"]
    return {k: (r["mean"], r["stddev"] or 0.0, r["median"], r["min"]) for k, r in zip(names, results)}

def with_python():
    import shlex
    argvs = {k: shlex.split(v) for k, v in names.items()}
    times = {k: [] for k in names}
    for _ in range(3):
        for argv in argvs.values():
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    for _ in range(runs):
        for k, argv in argvs.items():  # interleaved: a busy moment of the machine hits all alike
            t = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times[k].append(time.perf_counter() - t)
    return {k: (statistics.mean(v), statistics.stdev(v), statistics.median(v), min(v)) for k, v in times.items()}

tool = os.environ.get("BENCH_TOOL") or ("hyperfine" if shutil.which("hyperfine") else "python loop")
stats = with_hyperfine() if tool == "hyperfine" else with_python()
floor, floor_min = stats["floor"][2], stats["floor"][3]
print(f"kmscli start-up ({tool}, {runs} runs each; verdict on the median ratio, target <= {TARGET}x the floor)")
print(f"{'command':<12} {'median ms':>10} {'min ms':>7} {'mean ms':>8} {'± ms':>6} {'ratio':>6} {'min ratio':>9}  verdict")
missed = []
for k, (mean, sd, median, low) in stats.items():
    ratio = median / floor
    verdict = "floor" if k == "floor" else ("ok" if ratio <= TARGET else "MISSED")
    if verdict == "MISSED":
        missed.append(k)
    print(
        f"{k:<12} {median*1000:>10.1f} {low*1000:>7.1f} {mean*1000:>8.1f} {sd*1000:>6.1f} "
        f"{ratio:>5.2f}x {low/floor_min:>8.2f}x  {verdict}"
    )
print(f"floor:   {names['floor']}")
print(f"encrypt: {os.environ['BENCH_ENCRYPT_MODE']}")
if missed:
    print("missed: " + ", ".join(missed) + "  (profile: python -X importtime -m kmscli ...)")
    if os.environ["BENCH_STRICT"] == "1":
        sys.exit(1)
EOF
