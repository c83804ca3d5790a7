"""One of the processes of tests/test_concurrency.py: dozens of changes to a shared keyring.

    python tests/concurrency_worker.py WORKER ROUNDS SHARED_KEY LOG

Each round: create a key, alias it, tag it, rotate it, disable and enable it, and tag the
shared key (a read-modify-write of one file that every worker does). Each change that
returns is appended to LOG, so the test can check that every acknowledged change is there."""

from __future__ import annotations

import os
import sys

from crash_harness import _cli


def main(worker: str, rounds: int, shared: str, log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def ack(*fields) -> None:
        os.write(fd, (" ".join(map(str, fields)) + "\n").encode())

    for n in range(rounds):
        key = _cli(["create-key", "--description", f"worker {worker} round {n}"])["KeyMetadata"]["KeyId"]
        ack("key", key)
        alias = f"alias/w{worker}-{n}"
        _cli(["create-alias", "--alias-name", alias, "--target-key-id", key])
        ack("alias", alias, key)
        _cli(["tag-resource", "--key-id", alias, "--tag", f"round={n}"])
        ack("tag", key, "round", n)
        _cli(["rotate-key-on-demand", "--key-id", key])
        ack("rotated", key)
        _cli(["disable-key", "--key-id", key])
        _cli(["enable-key", "--key-id", key])
        ack("enabled", key)
        _cli(["tag-resource", "--key-id", shared, "--tag", f"w{worker}={n}"])
        ack("tag", shared, f"w{worker}", n)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
