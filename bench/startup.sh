#!/usr/bin/env bash
# Start-up time of kmscli against the floor every Python tool pays, measured in the same run:
#   floor:       python -c 'import click, cryptography.hazmat.primitives.ciphers.aead'
#   click floor: python -c 'import click'   (the peer of --version, which needs no crypto)
# Targets: encrypt, decrypt, sign (each with a session) and list-keys within 1.2x the floor;
# kmscli --version within 1.1x the click floor.
#
#   bench/startup.sh                       # interleaved timing loop, RUNS rounds
#   RUNS=40 STRICT=1 bench/startup.sh      # STRICT=1: exit 1 when a target is missed
#   COUNT=1 bench/startup.sh               # also count CPU instructions; verdict on them
#   TOOL=hyperfine bench/startup.sh        # hyperfine instead of the interleaved loop
#   PYTHON=/path/to/python bench/startup.sh
#
# Wall time: each round runs every command once, in turn (floor and kmscli alternate), so a
# busy moment of the machine hits all alike; the verdict is on the ratio of the medians.
# COUNT=1 adds the user-space instructions of one run of each, which a loaded machine does
# not change: `perf stat -e instructions:u` where the CPU's counters are readable, else
# valgrind's callgrind (about 50 times slower; Python's hash seed fixed so runs repeat).
#
# The commands run the cheapest way a script runs them: in a session (eval "$(kmscli unlock)"),
# on a keyring of three keys. sign is ECDSA_SHA_256 with an ECC_NIST_P256 key, and
# Ed25519 beside it: cryptography's ECDSA code imports its ec module (~9.5M instructions)
# that no other command here needs, which the two rows show apart.
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
unset PYTHONDONTWRITEBYTECODE
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
ecc="$(kmscli create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text)"
ed="$(kmscli create-key --key-spec ECC_NIST_EDWARDS25519 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId --output text)"
eval "$(kmscli unlock --ttl 2h 2>/dev/null)"
unset KMSCLI_PASSPHRASE
blob="$(kmscli encrypt --key-id "$key" --plaintext hello --query CiphertextBlob --output text)"

export BENCH_FLOOR="$PYTHON -c 'import click, cryptography.hazmat.primitives.ciphers.aead'"
export BENCH_CLICK="$PYTHON -c 'import click'"
# The floor of an ECDSA signature: the same imports and one signature, nothing of kmscli.
export BENCH_ECDSA="$PYTHON -c 'import click, cryptography.hazmat.primitives.ciphers.aead; from cryptography.hazmat.primitives.asymmetric import ec; from cryptography.hazmat.primitives import hashes; ec.generate_private_key(ec.SECP256R1()).sign(b\"hello\", ec.ECDSA(hashes.SHA256()))'"
export BENCH_VERSION="kmscli --version"
export BENCH_LIST="kmscli list-keys"
export BENCH_ENCRYPT="kmscli encrypt --key-id $key --plaintext hello"
export BENCH_DECRYPT="kmscli decrypt --ciphertext-blob $blob"
export BENCH_SIGN="kmscli sign --key-id $ecc --message hello --signing-algorithm ECDSA_SHA_256"
export BENCH_SIGN_ED="kmscli sign --key-id $ed --message hello --signing-algorithm ED25519_SHA_512"
export BENCH_TOOL="${TOOL:-}" BENCH_RUNS="$RUNS" BENCH_WORK="$work" BENCH_STRICT="${STRICT:-0}" BENCH_COUNT="${COUNT:-0}"

# Each command must succeed before it is timed: a fast failure is not a fast command.
for var in BENCH_VERSION BENCH_LIST BENCH_ENCRYPT BENCH_DECRYPT BENCH_SIGN BENCH_SIGN_ED; do
  bash -c "${!var}" >/dev/null
done

"$PYTHON" - <<'EOF'
import json, os, platform, re, shlex, shutil, statistics, subprocess, sys, time

runs = int(os.environ["BENCH_RUNS"])
commands = {
    "floor": os.environ["BENCH_FLOOR"],
    "click floor": os.environ["BENCH_CLICK"],
    "ECDSA floor": os.environ["BENCH_ECDSA"],
    "--version": os.environ["BENCH_VERSION"],
    "list-keys": os.environ["BENCH_LIST"],
    "encrypt": os.environ["BENCH_ENCRYPT"],
    "decrypt": os.environ["BENCH_DECRYPT"],
    "sign ECDSA": os.environ["BENCH_SIGN"],
    "sign Ed25519": os.environ["BENCH_SIGN_ED"],
}
# (command, the floor it is compared with, target ratio or None for information only)
table = [
    ("--version", "click floor", 1.1),
    ("list-keys", "floor", 1.2),
    ("encrypt", "floor", 1.2),
    ("decrypt", "floor", 1.2),
    ("sign ECDSA", "floor", 1.2),
    ("sign Ed25519", "floor", 1.2),
    ("sign ECDSA", "ECDSA floor", None),
]
argvs = {k: shlex.split(v) for k, v in commands.items()}


def with_hyperfine():
    out = os.path.join(os.environ["BENCH_WORK"], "hyperfine.json")
    subprocess.run(
        ["hyperfine", "--shell=none", "--warmup", "3", "--runs", str(runs), "--style", "none",
         "--export-json", out, *commands.values()],
        check=True, stdout=subprocess.DEVNULL,
    )
    results = json.load(open(out))["results"]
    return {k: (r["median"], r["min"]) for k, r in zip(commands, results)}


def with_python():
    times = {k: [] for k in commands}
    for _ in range(3):
        for argv in argvs.values():
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    for _ in range(runs):
        for k, argv in argvs.items():  # interleaved: a busy moment of the machine hits all alike
            t = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times[k].append(time.perf_counter() - t)
    return {k: (statistics.median(v), min(v)) for k, v in times.items()}


def instruction_counter():
    """A function counting one run's user-space instructions, and its name; None if no tool."""
    if shutil.which("perf"):
        probe = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u", "true"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and re.match(r"\d+,", probe.stderr.strip().splitlines()[-1]):
            def perf(argv):
                r = subprocess.run(["perf", "stat", "-x,", "-e", "instructions:u", *argv],
                                   capture_output=True, text=True, check=True)
                return int(r.stderr.strip().splitlines()[-1].split(",")[0])
            return perf, "perf stat -e instructions:u"
    if shutil.which("valgrind"):
        def callgrind(argv):
            r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                               capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONHASHSEED": "0"})
            return int(re.search(r"Collected : (\d+)", r.stderr).group(1))
        return callgrind, "valgrind --tool=callgrind (Ir)"
    return None, None


tool = os.environ.get("BENCH_TOOL") or "interleaved loop"
stats = with_hyperfine() if tool == "hyperfine" else with_python()
counts, counter_name = {}, None
if os.environ["BENCH_COUNT"] == "1":
    counter, counter_name = instruction_counter()
    if counter is None:
        print("COUNT=1: neither perf (with readable counters) nor valgrind is installed", file=sys.stderr)
    else:
        counts = {k: counter(argv) for k, argv in argvs.items()}

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine()) \
    if os.path.exists("/proc/cpuinfo") else platform.machine()
load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
print(f"kmscli start-up: {tool}, {runs} runs each, median; {os.cpu_count()} CPUs ({cpu}), "
      f"load average {load:.1f}; Python {platform.python_version()}")
header = f"{'command':<13} {'vs':<12} {'floor ms':>8} {'kmscli ms':>9} {'ratio':>6}"
if counts:
    header += f" {'floor Minstr':>12} {'kmscli Minstr':>13} {'ratio':>6}"
print(header + "  target  verdict")
missed = []
for k, vs, target in table:
    median, floor = stats[k][0], stats[vs][0]
    ratio = median / floor
    line = f"{k:<13} {vs:<12} {floor*1000:>8.1f} {median*1000:>9.1f} {ratio:>5.2f}x"
    if counts:
        # Counted, the verdict is on instructions: exact where wall time on a busy machine is not.
        ratio = counts[k] / counts[vs]
        line += f" {counts[vs]/1e6:>12.1f} {counts[k]/1e6:>13.1f} {ratio:>5.2f}x"
    if target is None:
        print(f"{line}      -   (for information)")
        continue
    ok = ratio <= target
    if not ok:
        missed.append(k)
    print(f"{line}  {target:>4.1f}x   {'ok' if ok else 'MISSED'}")
print(f"floor:       {commands['floor']}")
print(f"click floor: {commands['click floor']}")
print("ECDSA floor: the floor, then one ECDSA P-256 signature with cryptography")
print("commands run in a session (kmscli unlock), keyring of 3 keys; verdict on the "
      + ("instruction ratio" if counts else "wall-time ratio"))
if counts:
    print(f"instructions: {counter_name}, one run each")
if missed:
    print("missed: " + ", ".join(missed) + "  (profile: python -X importtime -m kmscli ...)")
    if os.environ["BENCH_STRICT"] == "1":
        sys.exit(1)
EOF
