#!/usr/bin/env bash
# Throughput and peak memory of kmscli encrypt-file / decrypt-file against the disk floor
# (cp, and cp followed by an fsync of the copy) and age, on one input of SIZE.
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

# run NAME OUTPUT COMMAND...: RUNS timed runs; prints one line with the median wall time.
run() {
  local name="$1" out="$2"; shift 2
  local walls=() peaks=() i
  for ((i = 0; i < RUNS; i++)); do
    rm -f "$out"; sync; sleep 1
    /usr/bin/time -v -o "$DIR/time.txt" "$@" >/dev/null
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + t[j]; print s}' "$DIR/time.txt")")
    peaks+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")")
  done
  local wall peak
  wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  peak=$(printf '%s\n' "${peaks[@]}" | sort -g | tail -1)
  printf '%-22s %9.2f s %10.0f MiB/s %9.1f MiB   (runs: %s)\n' "$name" "$wall" \
    "$(awk -v b="$BYTES" -v w="$wall" 'BEGIN {print (w > 0 ? b / 1048576 / w : 0)}')" \
    "$(awk -v k="$peak" 'BEGIN {print k / 1024}')" "${walls[*]}"
  echo "$name $wall" >> "$DIR/walls"
}

printf '%-22s %11s %16s %13s\n' "tool ($SIZE, $BYTES B)" "wall" "throughput" "peak RSS"
run "cp" "$DIR/copy" cp "$DIR/input" "$DIR/copy"
run "cp + fsync" "$DIR/copy" sh -c 'cp "$1" "$2" && sync "$2"' sh "$DIR/input" "$DIR/copy"
run "kmscli encrypt-file" "$DIR/input.kms" "$PYTHON" -m kmscli encrypt-file --quiet --key-id "$KEY" --in "$DIR/input" --out "$DIR/input.kms"
run "kmscli decrypt-file" "$DIR/output" "$PYTHON" -m kmscli decrypt-file --quiet --in "$DIR/input.kms" --out "$DIR/output"
cmp -s "$DIR/input" "$DIR/output" || { echo "bench: the round trip differs!" >&2; exit 1; }
rm -f "$DIR/output"
run "encrypt --public-key" "$DIR/input.rsa.kms" "$PYTHON" -m kmscli encrypt-file --quiet --public-key "$DIR/rsa.pem" --in "$DIR/input" --out "$DIR/input.rsa.kms"
rm -f "$DIR/input.rsa.kms"
if command -v age >/dev/null && command -v age-keygen >/dev/null; then
  age-keygen -o "$DIR/age-identity" 2>/dev/null
  run "age -r (X25519)" "$DIR/input.age" age -r "$(age-keygen -y "$DIR/age-identity")" -o "$DIR/input.age" "$DIR/input"
else
  echo "age                    not installed (apt-get install age)"
fi

enc=$(awk '/^kmscli encrypt-file/ {print $NF}' "$DIR/walls")
cpw=$(awk '$1 == "cp" && NF == 2 {print $2}' "$DIR/walls")
syncw=$(awk '/^cp \+ fsync/ {print $NF}' "$DIR/walls")
agew=$(awk '/^age/ {print $NF}' "$DIR/walls")
awk -v e="$enc" -v c="$cpw" -v s="$syncw" -v a="${agew:-0}" 'BEGIN {
  printf "encrypt-file / cp: %.2fx   encrypt-file / (cp + fsync): %.2fx", e / c, e / s
  if (a > 0) printf "   encrypt-file / age: %.2fx", e / a
  printf "\n"
}'
