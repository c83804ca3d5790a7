#!/usr/bin/env python3
"""Load on `kmscli serve` and on moto's server, the same run, the same clients: requests/s,
p50/p99 latency, and the server's memory.

Public tools only: boto3 (AWS's SDK) as the client, moto's server (`moto[server]` from PyPI)
as the peer, and the kmscli of this checkout.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/serve_load.py                  # 8 clients, 10,000 requests per server
    .venv/bin/python bench/serve_load.py --clients 1 --requests 2000
    .venv/bin/python bench/serve_load.py --long           # 100,000 requests to kmscli serve: memory after

Each client is a process of its own (a boto3 client in one Python process is bound by the
GIL, and would measure the client), doing in turn Encrypt, Decrypt, Sign (ECDSA P-256) and
GenerateDataKey (AES_256) with a symmetric key and a signing key made for the run. Clients
and server share the machine's cores: the figures are of the whole system, the same for both
servers; the server's own CPU time per request (from /proc) separates its cost from the
clients' (whose CPU per request is printed too). Memory is the server process's resident set (VmRSS) after a warm-up, its peak
(VmHWM), and at the end. The machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "bench passphrase, thrown away"
OPERATIONS = ("Encrypt", "Decrypt", "Sign", "GenerateDataKey")


# --- the servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMSCLI_", "AWS_"))}
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true", "PYTHONPATH": str(ROOT)})
    env.update(extra)
    return env


def start_kmscli(tmp: Path, python: str):
    env = clean_env({"KMSCLI_KEYRING": str(tmp / "keyring"), "KMSCLI_PASSPHRASE": PASSPHRASE})
    kms = [python, "-m", "kmscli"]
    subprocess.run([*kms, "init", "--scrypt-log2-n", "10", "--region", "us-east-1"], env=env, check=True,
                   capture_output=True)
    key = json.loads(subprocess.run([*kms, "create-access-key"], env=env, check=True,
                                    capture_output=True).stdout)["AccessKey"]
    log = open(tmp / "serve.log", "wb")
    proc = subprocess.Popen([*kms, "serve", "--host", "127.0.0.1", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    if not ready:
        proc.kill()
        sys.exit("kmscli serve did not start in 60 s")
    line = json.loads(proc.stdout.readline())
    return proc, line["Endpoint"], line["Region"], (key["AccessKeyId"], key["SecretAccessKey"])


def start_moto(tmp: Path, python: str):
    port = free_port()
    log = open(tmp / "moto.log", "wb")
    proc = subprocess.Popen([python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            env=clean_env({}), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"moto_server exited: {(tmp / 'moto.log').read_text()[-2000:]}")
            time.sleep(0.1)
    else:
        proc.kill()
        sys.exit("moto_server did not start in 60 s")
    return proc, f"http://127.0.0.1:{port}", "us-east-1", ("testing", "testing")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory(pid: int) -> dict:
    """VmRSS and VmHWM (the peak) of ``pid`` in MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields


# --- the clients ----------------------------------------------------------------------------------


def client(endpoint, region, credentials):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id=credentials[0], aws_secret_access_key=credentials[1],
                                    region_name=region)
    return session.client("kms", endpoint_url=endpoint,
                          config=Config(retries={"total_max_attempts": 1}, read_timeout=60, connect_timeout=10))


def worker(endpoint, region, credentials, keys, count, offset, out):
    kms = client(endpoint, region, credentials)
    cpu_start = time.process_time()
    sym, ecc, blob = keys
    latencies = {op: [] for op in OPERATIONS}
    errors = 0
    for n in range(offset, offset + count):
        op = OPERATIONS[n % len(OPERATIONS)]
        start = time.perf_counter()
        try:
            if op == "Encrypt":
                kms.encrypt(KeyId=sym, Plaintext=b"x" * 256)
            elif op == "Decrypt":
                kms.decrypt(CiphertextBlob=blob, KeyId=sym)
            elif op == "Sign":
                kms.sign(KeyId=ecc, Message=b"message %d" % n, SigningAlgorithm="ECDSA_SHA_256")
            else:
                kms.generate_data_key(KeyId=sym, KeySpec="AES_256")
        except Exception:  # noqa: BLE001 - counted and reported
            errors += 1
            continue
        latencies[op].append(time.perf_counter() - start)
    out.put((latencies, errors, time.process_time() - cpu_start))


def run_load(endpoint, region, credentials, keys, clients: int, total: int) -> dict:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    per = total // clients
    procs = [ctx.Process(target=worker, args=(endpoint, region, credentials, keys, per, i, out))
             for i in range(clients)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    every = sorted(x for latencies, _, _ in results for op in OPERATIONS for x in latencies[op])
    by_op = {op: sorted(x for latencies, _, _ in results for x in latencies[op]) for op in OPERATIONS}
    return {
        "requests": len(every),
        "errors": sum(e for _, e, _ in results),
        "client_cpu_ms_per_request": sum(c for _, _, c in results) * 1000 / max(1, len(every)),
        "seconds": elapsed,
        "rps": len(every) / elapsed,
        "p50_ms": percentile(every, 50) * 1000,
        "p99_ms": percentile(every, 99) * 1000,
        "by_op_p50_ms": {op: percentile(v, 50) * 1000 for op, v in by_op.items() if v},
    }


def percentile(sorted_values, p) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def prepare(endpoint, region, credentials):
    kms = client(endpoint, region, credentials)
    sym = kms.create_key()["KeyMetadata"]["KeyId"]
    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=sym, Plaintext=b"y" * 256)["CiphertextBlob"]
    return sym, ecc, blob


def measure(name, start, tmp, python, clients, total, warmup):
    proc, endpoint, region, credentials = start(tmp, python)
    try:
        keys = prepare(endpoint, region, credentials)
        run_load(endpoint, region, credentials, keys, clients, warmup)
        after_warmup = memory(proc.pid)["VmRSS"]
        peak_sampler = Sampler(proc.pid)
        peak_sampler.start()
        cpu_before = cpu_seconds(proc.pid)
        result = run_load(endpoint, region, credentials, keys, clients, total)
        result["server_cpu_ms_per_request"] = (cpu_seconds(proc.pid) - cpu_before) * 1000 / max(1, result["requests"])
        peak_sampler.stop()
        mem = memory(proc.pid)
        result.update(name=name, rss_warm_mib=after_warmup, rss_end_mib=mem["VmRSS"], rss_peak_mib=mem["VmHWM"],
                      rss_max_sampled_mib=peak_sampler.peak)
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0.0, threading.Event()

    def run(self):
        while not self._halt.wait(0.25):
            try:
                self.peak = max(self.peak, memory(self.pid)["VmRSS"])
            except OSError:
                return

    def stop(self):
        self._halt.set()
        self.join()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent client processes (default 8)")
    parser.add_argument("--requests", type=int, default=10_000, help="requests per server (default 10,000)")
    parser.add_argument("--warmup", type=int, default=400, help="requests before measuring (default 400)")
    parser.add_argument("--long", action="store_true",
                        help="100,000 requests to kmscli serve alone, for its memory after them")
    parser.add_argument("--only", choices=("kmscli", "moto"), help="measure one server only")
    parser.add_argument("--python", default=sys.executable, help="interpreter for both servers")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()

    targets = [("kmscli serve", start_kmscli), ("moto_server", start_moto)]
    total = args.requests
    if args.long:
        targets, total = targets[:1], 100_000
    elif args.only:
        targets = [t for t in targets if t[0].startswith(args.only)]
    print(f"machine: {machine()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="serve-load-"))
    try:
        for name, start in targets:
            r = measure(name, start, tmp, args.python, args.clients, total, args.warmup)
            results.append(r)
            print(f"  {name}: {r['requests']} requests, {r['errors']} errors, {r['seconds']:.1f} s", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(f"| server | clients | requests | errors | requests/s | p50 ms | p99 ms | server CPU ms/request | client CPU ms/request | RSS warm MiB | RSS peak MiB | RSS end MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['name']} | {args.clients} | {r['requests']} | {r['errors']} | {r['rps']:.0f} | {r['p50_ms']:.1f} "
              f"| {r['p99_ms']:.1f} | {r['server_cpu_ms_per_request']:.2f} | {r['client_cpu_ms_per_request']:.2f} | {r['rss_warm_mib']:.1f} | {r['rss_peak_mib']:.1f} | {r['rss_end_mib']:.1f} |")
    for r in results:
        print(f"{r['name']} p50 by operation (ms): "
              + ", ".join(f"{op} {v:.1f}" for op, v in r["by_op_p50_ms"].items()))
    if len(results) == 2 and results[1]["rps"]:
        print(f"throughput ratio kmscli serve / moto_server: {results[0]['rps'] / results[1]['rps']:.2f}x")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
