"""Running `kmscli serve` for tests: in this process (fast, a clock the test controls) or as
a real process (the command line, its JSON line, signals).

Both bind 127.0.0.1 on a free port and are stopped by the test that started them."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from conftest import PASSPHRASE, ROOT


@dataclass
class Endpoint:
    url: str
    region: str
    access_key_id: str
    secret: str
    keyring_path: Path

    def client(self, **config):
        """A boto3 KMS client for this endpoint, signing with the test's access key."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "kms",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret,
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30, **config),
        )


def open_keyring(path: Path):
    from kmscli import service  # noqa: F401 - the lifecycle sweep, as the CLI registers it
    from kmscli.keyring import Keyring

    return Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))


def new_access_key(path: Path) -> tuple[str, str]:
    from kmscli.service import access_keys

    key = access_keys.create_access_key(open_keyring(path))["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@contextlib.contextmanager
def serve_in_thread(keyring_path: Path, *, now=None, log_stream=None, **limits):
    """The server in this process, on a free loopback port; ``now`` is the clock signatures
    are checked against (the Python API's hook for tests)."""
    import io

    from kmscli.serve import server as srv
    from kmscli.serve.app import KmsApp
    from kmscli.serve.log import RequestLog

    keyring = open_keyring(keyring_path)
    keyring.master_key
    log = RequestLog("json", stream=log_stream if log_stream is not None else io.StringIO())
    app = KmsApp(keyring, log=log, **({"now": now} if now else {}))
    server = srv.build_server(app, "127.0.0.1", 0, tls_cert=None, tls_key=None, log=log, **limits)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    akid, secret = new_access_key(keyring_path)
    try:
        yield Endpoint(f"http://127.0.0.1:{server.bind_addr[1]}", keyring.region, akid, secret, keyring_path)
    finally:
        server.stop()
        thread.join(10)


@contextlib.contextmanager
def serve_process(env: dict, *args, timeout: float = 30, preexec_fn=None):
    """`python -m kmscli serve --port 0 ...` as a real process; yields (process, first stdout line as JSON)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **{k: v for k, v in env.items() if v is not None}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kmscli", "serve", "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
        preexec_fn=preexec_fn,
    )
    try:
        line = _readline_within(proc, timeout)
        yield proc, json.loads(line) if line else None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout)
        for stream in (proc.stdout, proc.stderr):
            stream.close()


def _readline_within(proc, timeout: float) -> bytes:
    result = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0] if result else b""
