"""Running ``kmscli serve`` in the tests: a real process on 127.0.0.1, a free port, stopped by
the test that started it; and clients for it that nobody here wrote (boto3, botocore's SigV4).

A server costs a process start and an scrypt unlock, so test modules share one per module
(``serve_module`` below). Its log goes to a file, never to a pipe nobody reads: a server that
logs one line per request would block on a full pipe under load.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import PASSPHRASE, ROOT, TEST_LOG2_N, run_in_process

START_TIMEOUT = 30.0  # seconds for the server to print its endpoint line (a busy 2-core machine)
STOP_TIMEOUT = 20.0  # seconds for SIGTERM to finish in-flight requests and exit

# Nothing of the developer's own AWS configuration may reach a client in the tests.
AWS_ISOLATION = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_PROFILE": None,
    "AWS_DEFAULT_PROFILE": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_SECURITY_TOKEN": None,
    "AWS_ENDPOINT_URL": None,
    "AWS_ENDPOINT_URL_KMS": None,
    "AWS_CA_BUNDLE": None,
    "AWS_MAX_ATTEMPTS": None,
    "AWS_RETRY_MODE": None,
}


def keyring_env(path: Path) -> dict:
    return {
        "KMSCLI_KEYRING": str(path),
        "KMSCLI_PASSPHRASE": PASSPHRASE,
        "KMSCLI_PASSPHRASE_FILE": None,
        "KMSCLI_SESSION": None,
        "KMSCLI_OUTPUT": None,
        "KMSCLI_ENDPOINT_URL": None,
    }


def process_env(extra: dict) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    for name in list(env):
        if name.startswith("KMSCLI_"):
            del env[name]
    for k, v in {**AWS_ISOLATION, **extra}.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def cli(env: dict, *args, input: bytes | None = None, timeout: float = 60):
    """kmscli as its own process against the keyring of ``env`` (another process than the
    server, taking the keyring lock as any shell script would); -> (status, stdout, stderr)."""
    p = subprocess.run(
        [sys.executable, "-m", "kmscli", *map(str, args)],
        input=input or b"",
        capture_output=True,
        env=process_env(env),
        timeout=timeout,
    )
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def cli_json(env: dict, *args, timeout: float = 60) -> Any:
    status, out, err = cli(env, *args, timeout=timeout)
    assert status == 0, err
    return json.loads(out) if out.strip() else None


def make_keyring(path: Path, *extra_init) -> dict:
    env = keyring_env(path)
    r = run_in_process(["init", "--scrypt-log2-n", TEST_LOG2_N, *extra_init], env=env)
    assert r.status == 0, r.stderr
    return env


def new_access_key(env: dict) -> dict:
    r = run_in_process(["create-access-key"], env=env)
    assert r.status == 0, r.stderr
    key = json.loads(r.stdout)["AccessKey"]
    assert set(key) >= {"AccessKeyId", "SecretAccessKey", "Status", "CreateDate"}, key
    return key


@dataclass
class Server:
    """A running ``kmscli serve``; ``stop()`` ends it with SIGTERM, the way an operator would."""

    proc: subprocess.Popen
    endpoint: str
    region: str
    log_path: Path
    env: dict
    access_key_id: str = ""
    secret_access_key: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.endpoint.split("//", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    @property
    def keyring(self) -> Path:
        return Path(self.env["KMSCLI_KEYRING"])

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def client(self, access_key_id: str | None = None, secret: str | None = None, **config):
        return boto3_client(
            self.endpoint,
            self.region,
            access_key_id or self.access_key_id,
            secret or self.secret_access_key,
            **config,
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError(f"kmscli serve did not stop within {timeout} s of signal {sig}")
        return self.proc.returncode


def start_server(env: dict, log_path: Path, *extra_args, access_key: dict | None = None) -> Server:
    """Start ``kmscli serve --port 0`` on the keyring of ``env`` and wait for its endpoint line."""
    log = open(log_path, "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kmscli", "serve", "--host", "127.0.0.1", "--port", "0", *extra_args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        env=process_env(env),
    )
    log.close()
    line = b""
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                break
            ready, _, _ = select.select([proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        assert line.endswith(b"\n"), (
            f"kmscli serve printed no endpoint line (status {proc.poll()}): "
            f"{line!r} {log_path.read_text(errors='replace')[-2000:]}"
        )
        first = json.loads(line.split(b"\n", 1)[0])
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        raise
    assert set(first) == {"Endpoint", "Region"}, first
    assert first["Endpoint"].startswith("http://127.0.0.1:"), first
    server = Server(proc, first["Endpoint"], first["Region"], log_path, env)
    if access_key:
        server.access_key_id = access_key["AccessKeyId"]
        server.secret_access_key = access_key["SecretAccessKey"]
    return server


def boto3_client(endpoint: str, region: str, access_key_id: str, secret: str, **config):
    """A boto3 KMS client for ``kmscli serve``: no retries (a failure must show, not be
    retried away), bounded timeouts."""
    import boto3
    from botocore.config import Config

    options = {
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "connect_timeout": 10,
        "read_timeout": 60,
        **config,
    }
    session = boto3.session.Session(
        aws_access_key_id=access_key_id, aws_secret_access_key=secret, region_name=region
    )
    return session.client("kms", endpoint_url=endpoint, config=Config(**options))


# --- raw requests, signed by botocore and sent by http.client so a test can tamper --------


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def error(self) -> str | None:
        """AWS's exception name from ``__type`` (which may carry a ``namespace#`` prefix)."""
        if self.status < 400:
            return None
        try:
            return self.json()["__type"].rsplit("#", 1)[-1]
        except (ValueError, KeyError):
            return None


def signed_headers(
    endpoint: str,
    region: str,
    access_key_id: str,
    secret: str,
    target: str,
    body: bytes,
    *,
    service: str = "kms",
    when=None,
) -> dict:
    """The headers botocore's SigV4Auth puts on a KMS JSON 1.1 request (``when``: the signing
    time, a datetime, to sign in the past or future)."""
    from unittest import mock

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=endpoint + "/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": target,
        },
    )
    signer = SigV4Auth(Credentials(access_key_id, secret), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    return dict(request.headers.items())


def send(endpoint: str, headers: dict, body: bytes, *, timeout: float = 30) -> Reply:
    host, port = endpoint.split("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.putrequest("POST", "/", skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if not any(k.lower() == "content-length" for k in headers):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, response.read(), {k.lower(): v for k, v in response.getheaders()})
    finally:
        conn.close()


def call(server: Server, operation: str, request: dict | None = None, **sign) -> Reply:
    """A correctly signed raw request for ``operation``."""
    body = json.dumps(request or {}).encode()
    target = f"TrentService.{operation}"
    headers = signed_headers(
        server.endpoint, server.region, server.access_key_id, server.secret_access_key, target, body, **sign
    )
    return send(server.endpoint, headers, body)


def served_keyring(tmp_path_factory, name: str = "serve", *serve_args):
    """A fresh keyring, an access key for it, and ``kmscli serve`` on it; a generator for a
    module fixture: it yields the Server and stops it (SIGTERM, which must exit 0)."""
    base = tmp_path_factory.mktemp(name)
    env = make_keyring(base / "keyring")
    server = start_server(env, base / "serve.log", *serve_args, access_key=new_access_key(env))
    try:
        yield server
    finally:
        status = server.stop()
    assert status == 0, server.log()[-2000:]
    assert "Traceback" not in server.log(), server.log()[-4000:]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One ``kmscli serve`` per test module (start-up and unlock cost)."""
    yield from served_keyring(tmp_path_factory)
