#!/usr/bin/env python3
"""What the endpoint mode costs: the same kmscli commands on a keyring and through
--endpoint-url against a `kmscli serve` of that keyring, on this machine, in the same run.

Public tools only: python3 and the kmscli under test (this checkout). A throwaway keyring
(scrypt log2 N = 14) is served on 127.0.0.1 on a free port and stopped at the end.

    python3 bench/endpoint_overhead.py            # N = 10 small calls each, a 64 MiB file
    python3 bench/endpoint_overhead.py -n 20 --mib 256

Small calls (`describe-key`, `encrypt`) are interleaved local / endpoint so that other load
weighs on each alike; their median and minimum are printed in milliseconds. The file is
encrypted and decrypted once each way (MiB/s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, run, timed

KMSCLI = [sys.executable, "-m", "kmscli"]


def kmscli(args, env) -> subprocess.CompletedProcess:
    return run([*KMSCLI, *args], env)


def kmscli_timed(args, env) -> float:
    return timed([*KMSCLI, *args], env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--mib", type=int, default=64)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = {**os.environ, "PYTHONPATH": str(ROOT), "KMSCLI_KEYRING": str(tmp / "keyring"),
                "KMSCLI_PASSPHRASE": "bench passphrase", "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}
        base.pop("KMSCLI_ENDPOINT_URL", None)
        kmscli(["init", "--scrypt-log2-n", "14"], base)
        key = json.loads(kmscli(["create-key"], base).stdout)["KeyMetadata"]["KeyId"]
        access = json.loads(kmscli(["create-access-key"], base).stdout)["AccessKey"]
        with open(tmp / "serve.log", "wb") as log:
            server = subprocess.Popen([*KMSCLI, "serve", "--port", "0"], env=base, stdout=subprocess.PIPE, stderr=log)
        try:
            line = json.loads(server.stdout.readline())
            remote = {**base, "KMSCLI_ENDPOINT_URL": line["Endpoint"], "AWS_REGION": line["Region"],
                      "AWS_ACCESS_KEY_ID": access["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": access["SecretAccessKey"]}
            remote.pop("KMSCLI_PASSPHRASE")
            for name, args in (("describe-key", ["describe-key", "--key-id", key]),
                               ("encrypt", ["encrypt", "--key-id", key, "--plaintext", "x"])):
                times = {"local": [], "endpoint": []}
                for _ in range(options.n):
                    times["local"].append(kmscli_timed(args, base))
                    times["endpoint"].append(kmscli_timed(args, remote))
                for mode, t in times.items():
                    print(f"{name:14} {mode:9} median {statistics.median(t) * 1000:7.1f} ms  min {min(t) * 1000:7.1f} ms")
            data = tmp / "data"
            with open(data, "wb") as f:
                for _ in range(options.mib):
                    f.write(os.urandom(1 << 20))
            for mode, env in (("local", base), ("endpoint", remote)):
                enc = kmscli_timed(["encrypt-file", "--key-id", key, "--in", data, "--out", tmp / f"{mode}.kms", "-q"], env)
                dec = kmscli_timed(["decrypt-file", "--in", tmp / f"{mode}.kms", "--out", tmp / f"{mode}.out", "-q"], env)
                print(f"{options.mib} MiB file   {mode:9} encrypt-file {options.mib / enc:6.1f} MiB/s  "
                      f"decrypt-file {options.mib / dec:6.1f} MiB/s")
        finally:
            server.terminate()
            server.wait(20)
            server.stdout.close()


if __name__ == "__main__":
    main()
