#!/usr/bin/env bash
# Throughput and peak memory of kmscli encrypt-file / decrypt-file against the disk floor
# (cp, and cp followed by an fsync of the copy), the floor of any program that reads and
# writes the bytes itself (cat: cp copies inside the kernel), and age, on one input of SIZE.
#
#   bench/file_throughput.sh [SIZE]        SIZE as head -c takes it: 1G (default), 64M, 1000000
#   RUNS=3 bench/file_throughput.sh 1G     each tool RUNS times; the median wall time is shown
#   BENCH_DIR=/path bench/file_throughput.sh   where the files go (default: a temp dir in /var/tmp)
#
# Public tools only: /usr/bin/time -v for wall time and peak memory (maximum resident set
# size), head and /dev/urandom for the input, cmp to check the round trip. kmscli runs from
# this checkout with a throwaway keyring. Every output is deleted before each run, so no run
# pays for truncating the previous one, and `sync` runs between runs so that one run's
# writeback does not land on the next one's clock.
set -euo pipefail

SIZE="${1:-1G}"
RUNS="${RUNS:-3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$(command -v python3)"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

DIR="$(mktemp -d "${BENCH_DIR:-/var/tmp}/kmscli-bench.XXXXXX")"
trap 'rm -rf "$DIR"' EXIT
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export KMSCLI_KEYRING="$DIR/keyring" KMSCLI_PASSPHRASE="bench-$$-$RANDOM"
unset KMSCLI_SESSION KMSCLI_PASSPHRASE_FILE
kmscli() { "$PYTHON" -m kmscli "$@"; }

echo "bench: writing $SIZE of random input to $DIR ..." >&2
head -c "$SIZE" /dev/urandom > "$DIR/input"
BYTES=$(stat -c %s "$DIR/input")
# scrypt's memory (128 * 8 * 2^N bytes) is the unlock's, paid once whatever the input size;
# the default keyring cost (N = 17: 128 MiB) would hide the streaming's own peak, so the
# bench keyring uses N = 14 (16 MiB) unless SCRYPT_LOG2_N says otherwise. The --public-key
# run needs no keyring at all and shows the streaming alone.
kmscli init --scrypt-log2-n "${SCRYPT_LOG2_N:-14}" >/dev/null
KEY=$(kmscli create-key --description bench --output text --query KeyMetadata.KeyId)
RSA_KEY=$(kmscli create-key --key-spec RSA_2048 --description bench --output text --query KeyMetadata.KeyId)
kmscli get-public-key --key-id "$RSA_KEY" --out "$DIR/rsa.pem" >/dev/null

# The tools run in rounds (cp, cp + fsync, encrypt, decrypt, ..., then again), so that each
# sees the same moments of a shared machine; per tool the median and the best wall time of
# RUNS runs are shown, and the largest peak memory.
AGE=""
if command -v age >/dev/null && command -v age-keygen >/dev/null; then
  age-keygen -o "$DIR/age-identity" 2>/dev/null
  AGE="$(age-keygen -y "$DIR/age-identity")"
fi

# once NAME OUTPUT COMMAND...: one timed run, appended to $DIR/runs as "NAME|wall|peak KiB".
once() {
  local name="$1" out="$2"; shift 2
  rm -f "$out"; sync; sleep 1
  /usr/bin/time -v -o "$DIR/time.txt" "$@" >/dev/null
  local wall peak
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + t[j]; print s}' "$DIR/time.txt")
  peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")
  echo "$name|$wall|$peak" >> "$DIR/runs"
}

NAMES=("cp" "cp + fsync" "cat > out" "kmscli encrypt-file" "kmscli decrypt-file" "encrypt --public-key")
[ -n "$AGE" ] && NAMES+=("age -r (X25519)")
: > "$DIR/runs"
for ((round = 1; round <= RUNS; round++)); do
  echo "bench: round $round of $RUNS ..." >&2
  once "cp" "$DIR/copy" cp "$DIR/input" "$DIR/copy"
  once "cp + fsync" "$DIR/copy" sh -c 'cp "$1" "$2" && sync "$2"' sh "$DIR/input" "$DIR/copy"
  once "cat > out" "$DIR/copy" sh -c 'cat "$1" > "$2"' sh "$DIR/input" "$DIR/copy"
  rm -f "$DIR/copy"
  once "kmscli encrypt-file" "$DIR/input.kms" "$PYTHON" -m kmscli encrypt-file --quiet --key-id "$KEY" --in "$DIR/input" --out "$DIR/input.kms"
  once "kmscli decrypt-file" "$DIR/output" "$PYTHON" -m kmscli decrypt-file --quiet --in "$DIR/input.kms" --out "$DIR/output"
  cmp -s "$DIR/input" "$DIR/output" || { echo "bench: the round trip differs!" >&2; exit 1; }
  rm -f "$DIR/output" "$DIR/input.kms"
  once "encrypt --public-key" "$DIR/input.rsa.kms" "$PYTHON" -m kmscli encrypt-file --quiet --public-key "$DIR/rsa.pem" --in "$DIR/input" --out "$DIR/input.rsa.kms"
  rm -f "$DIR/input.rsa.kms"
  if [ -n "$AGE" ]; then
    once "age -r (X25519)" "$DIR/input.age" age -r "$AGE" -o "$DIR/input.age" "$DIR/input"
    rm -f "$DIR/input.age"
  fi
done

printf '%-22s %9s %9s %14s %11s   %s\n' "$SIZE ($BYTES B)" "median" "best" "throughput" "peak RSS" "all runs (s)"
for name in "${NAMES[@]}"; do
  awk -F'|' -v name="$name" -v bytes="$BYTES" '
    $1 == name { w[++n] = $2; if ($3 > peak) peak = $3; all = all " " $2 }
    END {
      # insertion sort: n is small
      for (i = 2; i <= n; i++) { v = w[i]; j = i - 1; while (j > 0 && w[j] > v) { w[j + 1] = w[j]; j-- } w[j + 1] = v }
      median = w[int((n + 1) / 2)]
      printf "%-22s %7.2f s %7.2f s %8.0f MiB/s %7.1f MiB  %s\n", name, median, w[1], bytes / 1048576 / median, peak / 1024, all
      print name "|" median "|" w[1] > "/dev/stderr"
    }' "$DIR/runs" 2>> "$DIR/summary"
done
if [ -z "$AGE" ]; then
  echo "age                    not installed (apt-get install age)"
fi
awk -F'|' '{m[$1] = $2; b[$1] = $3} END {
  e = "kmscli encrypt-file"
  printf "encrypt-file vs cp: %.2fx (median) %.2fx (best);  vs cp + fsync: %.2fx (median) %.2fx (best);  vs cat: %.2fx (median)", m[e] / m["cp"], b[e] / b["cp"], m[e] / m["cp + fsync"], b[e] / b["cp + fsync"], m[e] / m["cat > out"]
  if (("age -r (X25519)") in m) printf ";  vs age: %.2fx (median) %.2fx (best)", m[e] / m["age -r (X25519)"], b[e] / b["age -r (X25519)"]
  printf "\n"
}' "$DIR/summary"
