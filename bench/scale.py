#!/usr/bin/env python3
"""The same speed at 100,000 keys as at one: kmscli's commands timed on keyrings of growing size.

One throwaway keyring is filled through the Python API (kmscli.service.keys.create_key), in
batches whose cost per key is printed, up to each size in turn (default 1, 1,000, 10,000 and
100,000 keys); at each size every CLI command below is run as a real process, several times,
and the median is kept. The table at the end gives ms per command per size, the ratio of the
largest size to the smallest (the peer every figure is measured against, in the same run),
and the peak memory (max RSS) of any command at that size. Each command is also run, right
before or after, on a peer keyring of one key: a second table gives each size's median over
the peer's, which the load of a shared machine moves far less than the first table's ratio.
Last, the fill's cost per key (wall and CPU): by batch, and the median of the first tenth of
the batches against that of the last tenth, the witness of a cost that stays flat.

    python3 bench/scale.py                          # 1, 1k, 10k, 100k keys (the fill takes minutes)
    python3 bench/scale.py --sizes 1,1000 --runs 5  # a quick look
    python3 bench/scale.py --sizes 100000 --keyring DIR --keep   # fill DIR (made by an earlier
                                                    # run with --keep) up to 100,000 and time there

The keyring is throwaway, so its scrypt cost is the tests' (log2 N = 10, 1 MiB) rather than
the default (17): each command derives the master key once, and at the default cost that
derivation (~0.3 s, the same at every size) would drown the differences this bench is for.
Public tools only: python3 and the kmscli of this checkout. The machine's load average is
printed at the start and the end: on a shared machine, compare figures of one run only.
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
sys.path.insert(0, str(ROOT))

PASSPHRASE = "scale bench passphrase"


def run(args: list[str], env: dict) -> tuple[float, int, bytes]:
    """One kmscli process: (wall ms, max RSS in KiB, stdout)."""
    start = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "kmscli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    elapsed = (time.perf_counter() - start) * 1000
    # wait4 is gone once communicate() reaped it; the children's high-water mark is the best
    # left, so commands are measured from the smallest keyring up (it can only rise).
    import resource

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if p.returncode != 0:
        sys.exit(f"kmscli {' '.join(args)} failed ({p.returncode}): {err.decode(errors='replace')}")
    return elapsed, rss, out


def commands(fixed: dict, n: int) -> dict:
    """Each command's arguments for its n-th run (names that must be new each time are)."""
    sym, hmac, ecc, blob = fixed["sym"], fixed["hmac"], fixed["ecc"], fixed["blob"]
    fixed["updates"] = fixed.get("updates", 0) + 1  # update-alias moves the alias to and fro: a real write each time
    return {
        "create-key": ["create-key"],
        "describe-key": ["describe-key", "--key-id", sym],
        "encrypt": ["encrypt", "--key-id", sym, "--plaintext", "hello"],
        "decrypt": ["decrypt", "--ciphertext-blob", blob],
        "encrypt (alias)": ["encrypt", "--key-id", fixed["alias"], "--plaintext", "hello"],
        "sign": ["sign", "--key-id", ecc, "--message", "hello", "--signing-algorithm", "ECDSA_SHA_256"],
        "generate-mac": ["generate-mac", "--key-id", hmac, "--message", "hello", "--mac-algorithm", "HMAC_SHA_256"],
        "tag-resource": ["tag-resource", "--key-id", sym, "--tag", f"run={n}"],
        "create-alias": ["create-alias", "--alias-name", f"alias/run-{fixed['tag']}-{fixed['size']}-{n}", "--target-key-id", sym],
        "schedule-key-deletion": ["schedule-key-deletion", "--key-id", fixed["doomed"][n], "--pending-window-in-days", "7"],
        "rotate-key-on-demand": ["rotate-key-on-demand", "--key-id", fixed["rotating"]],
        "list-keys --limit 100": ["list-keys", "--limit", "100"],
        "list-aliases --limit 100": ["list-aliases", "--limit", "100"],
        "describe-key (alias)": ["describe-key", "--key-id", fixed["alias"]],
        "update-alias": ["update-alias", "--alias-name", fixed["alias"], "--target-key-id", fixed["sym2"] if fixed["updates"] % 2 else sym],
        "list-aliases (every alias)": ["list-aliases", "--output", "text"],
        "list-keys (every key)": ["list-keys", "--output", "text"],
    }


def fill(keyring, target: int, batch: int, batches: list) -> None:
    from kmscli.service import keys

    import resource

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    have = len(keyring.key_ids())
    while have < target:
        count = min(batch, target - have)
        start, cpu_start = time.perf_counter(), cpu()
        for _ in range(count):
            keys.create_key(keyring)
        # Wall time mostly waits for fsync, which other work on the machine slows; CPU time
        # is this process's own work, the better witness of cost growing with the keys.
        batches.append((have + count, (time.perf_counter() - start) * 1000 / count, (cpu() - cpu_start) * 1000 / count))
        have += count
        print(
            f"  filled {have:>7} keys: {batches[-1][1]:.2f} ms per key, {batches[-1][2]:.2f} ms CPU",
            file=sys.stderr,
            flush=True,
        )


def add_aliases(keyring, count: int) -> None:
    """Bring the keyring to ``count`` aliases (beyond the bench's own), spread over its keys."""
    ids = keyring.key_ids()
    if count > 50 * len(ids):
        sys.exit(f"{count} aliases need at least {count // 50} keys (AWS allows 50 aliases per key)")
    stamp = "2026-01-01T00:00:00+00:00"
    with keyring.transaction():
        aliases = keyring.load_aliases(verify=True)
        for n in range(count):
            aliases.setdefault(f"alias/tenant-{n:06d}", {"TargetKeyId": ids[n % len(ids)], "CreationDate": stamp, "LastUpdatedDate": stamp})
        keyring.save_aliases(aliases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,1000,10000,100000", help="keyring sizes, ascending (default %(default)s)")
    parser.add_argument("--runs", type=int, default=5, help="runs per command and size; the median is kept")
    parser.add_argument("--batch", type=int, default=1000, help="keys per timed fill batch")
    parser.add_argument("--keyring", help="use this keyring (made by an earlier run with --keep) instead of a new one")
    parser.add_argument("--keep", action="store_true", help="keep the keyring (its path is printed)")
    parser.add_argument(
        "--aliases",
        help="aliases the keyring holds at each size, one count per size (e.g. 1,10000 with --sizes 1,1000); "
        "written in one go through the store, at most 50 per key as AWS allows",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    alias_counts = [int(a) for a in args.aliases.split(",")] if args.aliases else [0] * len(sizes)
    if len(alias_counts) != len(sizes):
        parser.error("--aliases takes one count per size")

    from kmscli import service  # noqa: F401 - the sweep and the index, as every writer has them
    from kmscli.keyring import Keyring
    from kmscli.service import aliases, encryption, keys

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="kmscli-scale-"))
    try:
        if args.keyring:
            path = Path(args.keyring)
            keyring = Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
        else:
            path = work / "keyring"
            keyring = Keyring.create(path, PASSPHRASE.encode(), scrypt_log2_n=10)
        run_tag = os.urandom(3).hex()  # names this run creates, unique in a kept keyring

        def prepare(keyring, path: Path) -> tuple[dict, dict]:
            """The keys every command works on, made first (the same ones at every size), and
            the environment of the commands."""
            sym = keys.create_key(keyring)["KeyMetadata"]["KeyId"]
            fixed = {
                "sym": sym,
                "hmac": keys.create_key(keyring, key_spec_name="HMAC_256", key_usage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"],
                "ecc": keys.create_key(keyring, key_spec_name="ECC_NIST_P256", key_usage="SIGN_VERIFY")["KeyMetadata"]["KeyId"],
                "blob": __import__("base64").b64encode(encryption.encrypt(keyring, sym, b"hello")["CiphertextBlob"]).decode(),
                "sym2": keys.create_key(keyring)["KeyMetadata"]["KeyId"],
                "alias": f"alias/bench-{run_tag}",
                "tag": run_tag,
            }
            aliases.create_alias(keyring, fixed["alias"], sym)
            env = dict(os.environ, PYTHONPATH=str(ROOT), KMSCLI_KEYRING=str(path), KMSCLI_PASSPHRASE=PASSPHRASE)
            env.pop("KMSCLI_SESSION", None)
            return fixed, env

        fixed, env = prepare(keyring, path)
        # The peer: a keyring of one key (and one alias), each command timed on it right
        # before or after the same command on the keyring being measured. On a shared machine
        # the load moves within minutes; a peer timed alongside moves with it.
        peer = Keyring.create(work / "peer", PASSPHRASE.encode(), scrypt_log2_n=10)
        peer_fixed, peer_env = prepare(peer, work / "peer")
        peer_table: dict[str, dict[int, list]] = {}
        table: dict[str, dict[int, float]] = {}
        memory: dict[int, int] = {}
        batches: list = []
        for size, alias_count in zip(sizes, alias_counts):
            # The fixed keys count towards the size; so do the keys the commands create.
            fill(keyring, size, args.batch, batches)
            if alias_count:
                add_aliases(keyring, alias_count)
            for ring, values in ((keyring, fixed), (peer, peer_fixed)):
                values["size"] = size
                values["rotating"] = keys.create_key(ring)["KeyMetadata"]["KeyId"]
                values["doomed"] = [keys.create_key(ring)["KeyMetadata"]["KeyId"] for _ in range(args.runs)]
            total = len(keyring.key_ids())
            print(f"size {size} ({total} keys on disk, {len(keyring.load_aliases())} aliases): timing commands", file=sys.stderr, flush=True)
            for n in range(args.runs):
                peer_commands = commands(peer_fixed, n)
                for name, argv in commands(fixed, n).items():
                    # The peer first on even runs, second on odd ones: neither always warms
                    # the other's caches.
                    for which in ((1, 0) if n % 2 else (0, 1)):
                        if which == 0:
                            ms, rss, _ = run(argv, env)
                            table.setdefault(name, {}).setdefault(size, []).append(ms)
                            memory[size] = max(memory.get(size, 0), rss)
                        else:
                            ms, _, _ = run(peer_commands[name], peer_env)
                            peer_table.setdefault(name, {}).setdefault(size, []).append(ms)
                # The same listing through the Python API, every page of 100 as the CLI
                # follows NextMarker: what list-keys costs without Python's start-up.
                start = time.perf_counter()
                fresh = Keyring.open(path)
                page = keys.list_keys(fresh)
                count = len(page["Keys"])
                while page["Truncated"]:
                    page = keys.list_keys(fresh, marker=page["NextMarker"])
                    count += len(page["Keys"])
                assert count == len(keyring.key_ids())
                ms = (time.perf_counter() - start) * 1000
                table.setdefault("API: every KeyId+KeyArn", {}).setdefault(size, []).append(ms)
            # A full rebuild of the key index from the key files (what a keyring from before
            # the index, or one changed behind kmscli's back, costs once), timed once.
            start = time.perf_counter()
            with keyring.transaction():
                keyring.rebuild_index()
            table.setdefault("API: key index rebuild", {}).setdefault(size, []).append((time.perf_counter() - start) * 1000)
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)

        # The table.
        head = f"{'command (median ms of ' + str(args.runs) + ')':<28}" + "".join(f"{s:>10,}" for s in sizes)
        head += f"{'ratio':>8}" if len(sizes) > 1 else ""
        print(head)
        for name, by_size in table.items():
            medians = [statistics.median(by_size[s]) for s in sizes]
            line = f"{name:<28}" + "".join(f"{m:>10.1f}" for m in medians)
            if len(sizes) > 1:
                line += f"{medians[-1] / medians[0]:>7.2f}x"
            print(line)
        print(f"{'peak RSS of a command (MiB)':<28}" + "".join(f"{memory[s] / 1024:>10.1f}" for s in sizes))
        print()
        print(f"{'against the 1-key peer':<28}" + "".join(f"{s:>10,}" for s in sizes) + "   (median ms / the peer's, timed alongside)")
        for name, by_size in peer_table.items():
            ratios = [statistics.median(table[name][s]) / statistics.median(by_size[s]) for s in sizes]
            print(f"{name:<28}" + "".join(f"{r:>9.2f}x" for r in ratios))
        for column, what in ((1, "ms per key"), (2, "ms CPU per key")):
            per_key = [b[column] for b in batches]
            if per_key:
                print(
                    f"fill through the Python API, {what} by batch of {args.batch}: first {per_key[0]:.2f}, "
                    f"median {statistics.median(per_key):.2f}, last {per_key[-1]:.2f}, max {max(per_key):.2f}"
                )
        if len(batches) >= 20:
            # Flat or not: the first and the last tenth of the batches, each by its median
            # (one batch slowed by the machine's load moves a median little).
            k = len(batches) // 10
            for column, what in ((1, "ms per key"), (2, "ms CPU per key")):
                first = statistics.median(b[column] for b in batches[:k])
                last = statistics.median(b[column] for b in batches[-k:])
                print(
                    f"fill, {what}, median of the first {k} batches (to {batches[k - 1][0]:,} keys): {first:.2f}; "
                    f"of the last {k} (from {batches[-k - 1][0]:,}): {last:.2f} ({last / first:.2f}x)"
                )
    finally:
        if args.keep and not args.keyring:
            kept = Path(tempfile.gettempdir()) / f"kmscli-scale-keyring-{run_tag}"
            os.rename(work / "keyring", kept)
            print(f"keyring kept at {kept} (passphrase {PASSPHRASE!r})", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
