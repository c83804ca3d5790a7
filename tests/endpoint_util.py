"""The endpoint mode's tests: kmscli run against the local keyring, against `kmscli serve`
through --endpoint-url, and against moto_server (from moto[server]: a KMS endpoint nobody
here wrote), with one caller per mode so that the same test runs in each.

Every server binds 127.0.0.1 on a free port, is bounded in start-up time, and is stopped by
the fixture that started it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from conftest import caller, make_keyring
from serve_clients import AWS_ISOLATION

START_TIMEOUT = 30.0  # seconds for moto_server to answer (a busy 2-core machine)


def remote_env(url: str, region: str, access_key_id: str, secret: str, tmp: Path) -> dict:
    """The environment of a run through --endpoint-url: AWS's variables for the credential
    chain, and a keyring path that does not exist and no passphrase, so any attempt to touch
    a keyring would fail the test."""
    return {
        **AWS_ISOLATION,
        "KMSCLI_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": None,
        "KMSCLI_KEYRING": str(tmp / "no-keyring-here"),
        "KMSCLI_PASSPHRASE": None,
    }


def local_caller(tmp: Path):
    kms = caller(make_keyring(tmp / "keyring"))
    kms.mode = "local"
    return kms


def remote_caller(env: dict, mode: str):
    kms = caller(env)
    kms.mode = mode
    return kms


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def moto_server(log_path: Path):
    """moto_server (moto[server]) as a process on 127.0.0.1; yields its URL."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    command = [str(moto)] if moto.exists() else [sys.executable, "-m", "moto.server"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **{k: v for k, v in AWS_ISOLATION.items() if v is not None}},
        )
    try:
        _wait_for(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_for(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError("moto_server did not start in time")


class ScriptedKms:
    """A test endpoint that answers every request with one AWS error (JSON 1.1), and counts
    the requests: throttling, or the service failing, as botocore sees them from AWS."""

    def __init__(self, status: int, name: str, message: str, max_requests: int = 20):
        self.status, self.name, self.message = status, name, message
        self.max_requests = max_requests
        self.requests = 0

    @contextlib.contextmanager
    def running(self):
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(min(length, 1 << 20))
                scripted.requests += 1
                if scripted.requests > scripted.max_requests:  # bounded: a runaway client stops here
                    self.send_error(503)
                    return
                body = json.dumps({"__type": scripted.name, "message": scripted.message}).encode()
                self.send_response(scripted.status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.timeout = 5
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)
