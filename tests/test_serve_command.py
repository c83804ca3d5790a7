"""`kmscli serve` as a real process, and the access-key commands: the command-line contract."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time

import pytest

from conftest import PASSPHRASE, run_process
from serve_util import Endpoint, serve_process


@pytest.fixture
def access_key(kms):
    key = kms("create-access-key").json()["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_create_list_delete_access_key_as_iam_shapes_them(kms, keyring_env):
    created = kms("create-access-key").json()["AccessKey"]
    assert set(created) == {"AccessKeyId", "SecretAccessKey", "Status", "CreateDate"}
    assert created["AccessKeyId"].startswith("AKIA") and len(created["AccessKeyId"]) == 20
    assert len(created["SecretAccessKey"]) == 40 and created["Status"] == "Active"
    listed = kms("list-access-keys", env={"KMSCLI_PASSPHRASE": None}).json()["AccessKeyMetadata"]
    assert listed == [{k: created[k] for k in ("AccessKeyId", "Status", "CreateDate")}]
    # The secret is nowhere on disk in the clear.
    from pathlib import Path

    for path in Path(keyring_env["KMSCLI_KEYRING"]).rglob("*"):
        if path.is_file():
            assert created["SecretAccessKey"].encode() not in path.read_bytes(), path
    assert kms("delete-access-key", "--access-key-id", created["AccessKeyId"]).stdout == b""
    assert kms("list-access-keys").json() == {"AccessKeyMetadata": []}
    again = kms("delete-access-key", "--access-key-id", created["AccessKeyId"])
    assert again.status == 3 and "NotFoundException" in again.stderr


def test_a_tampered_access_keys_file_is_refused_as_damaged(kms, keyring_env):
    from pathlib import Path

    kms("create-access-key").json()
    path = Path(keyring_env["KMSCLI_KEYRING"]) / "access-keys.toml"
    path.write_text(path.read_text().replace('Status = "Active"', 'Status = "Active" '))  # same doc: still fine
    assert kms("create-access-key").status == 0
    text = path.read_text()
    path.write_text(text.replace("CreateDate = \"", "CreateDate = \"1", 1))
    result = kms("create-access-key")
    assert result.status == 5 and "KeyringDamagedException" in result.stderr


def test_serve_prints_one_json_line_serves_and_exits_0_on_sigterm(kms, keyring_env, access_key):
    with serve_process(keyring_env) as (proc, ready):
        assert set(ready) == {"Endpoint", "Region"} and ready["Region"] == "local"
        assert ready["Endpoint"].startswith("http://127.0.0.1:")
        client = Endpoint(ready["Endpoint"], ready["Region"], *access_key, None).client()
        key = client.create_key()["KeyMetadata"]["KeyId"]
        # A change the CLI makes is seen by the next request.
        assert kms("disable-key", "--key-id", key).status == 0
        with pytest.raises(client.exceptions.DisabledException):
            client.encrypt(KeyId=key, Plaintext=b"x")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        stdout_rest = proc.stdout.read()
        stderr = proc.stderr.read().decode()
    assert stdout_rest == b""  # exactly one line on stdout
    assert access_key[1] not in stderr and PASSPHRASE not in stderr
    lines = [line for line in stderr.splitlines() if " CreateKey " in line or " Encrypt " in line]
    assert any("status=200" in line for line in lines) and any("DisabledException" in line for line in lines)
    assert "Traceback" not in stderr


def test_sigterm_lets_a_request_in_flight_finish(kms, keyring_env, access_key):
    """A request that is waiting on the keyring lock when SIGTERM arrives still gets its answer."""
    from kmscli.keyring.lock import exclusive_lock
    from pathlib import Path

    with serve_process(keyring_env) as (proc, ready):
        client = Endpoint(ready["Endpoint"], ready["Region"], *access_key, None).client()
        answers = []
        with exclusive_lock(Path(keyring_env["KMSCLI_KEYRING"])):
            worker = threading.Thread(target=lambda: answers.append(client.create_key(Description="in flight")))
            worker.start()
            time.sleep(0.5)  # the request now waits for the lock we hold
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
        worker.join(20)
        assert proc.wait(20) == 0
    assert answers and answers[0]["KeyMetadata"]["Description"] == "in flight"


def test_json_log_format_is_one_json_object_per_request(keyring_env, access_key):
    with serve_process(keyring_env, "--log-format", "json") as (proc, ready):
        client = Endpoint(ready["Endpoint"], ready["Region"], *access_key, None).client()
        client.list_keys()
        with pytest.raises(client.exceptions.NotFoundException):
            client.describe_key(KeyId="alias/missing")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        records = [json.loads(line) for line in proc.stderr.read().decode().splitlines()]
    requests = [r for r in records if "operation" in r]
    assert [r["operation"] for r in requests] == ["ListKeys", "DescribeKey"]
    assert requests[1]["status"] == 400 and requests[1]["error"] == "NotFoundException"
    assert requests[1]["keyId"] == "alias/missing" and requests[0]["latencyMs"] >= 0
    assert all(r["accessKeyId"] == access_key[0] for r in requests)


def test_a_non_loopback_host_without_tls_is_refused_before_any_passphrase(keyring_env):
    result = run_process(["serve", "--host", "0.0.0.0", "--port", "0"], env={**keyring_env, "KMSCLI_PASSPHRASE": None})
    assert result.status == 2
    assert "TLS" in result.stderr and result.stdout == b""
    assert "Traceback" not in result.stderr


def test_serve_on_a_port_in_use_says_so(keyring_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = run_process(["serve", "--port", str(taken.getsockname()[1])], env=keyring_env, timeout=60)
    assert result.status == 5 and "cannot listen" in result.stderr and result.stdout == b""


def test_a_locked_keyring_is_refused_before_listening(keyring_env):
    result = run_process(["serve", "--port", "0"], env={**keyring_env, "KMSCLI_PASSPHRASE": None})
    assert result.status == 4 and result.stdout == b""


def test_serve_over_tls(tmp_path, keyring_env, access_key):
    """--tls-cert/--tls-key: HTTPS that boto3 verifies against the certificate."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    args = ["--tls-cert", tmp_path / "cert.pem", "--tls-key", tmp_path / "key.pem"]
    with serve_process(keyring_env, *map(str, args)) as (proc, ready):
        assert ready["Endpoint"].startswith("https://127.0.0.1:")
        import boto3

        client = boto3.client(
            "kms", endpoint_url=ready["Endpoint"], region_name=ready["Region"],
            aws_access_key_id=access_key[0], aws_secret_access_key=access_key[1], verify=str(tmp_path / "cert.pem"),
        )
        assert client.list_keys()["Keys"] == []
        # Clients that stall their TLS handshake (silent, or half a ClientHello) hold up no one.
        port = int(ready["Endpoint"].rsplit(":", 1)[1])
        stalled = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]
        for s in stalled[:2]:
            s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        plain = socket.create_connection(("127.0.0.1", port), timeout=5)
        plain.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")  # plain HTTP to the TLS port
        try:
            time.sleep(0.3)
            started = time.monotonic()
            assert client.describe_key(KeyId=client.create_key()["KeyMetadata"]["KeyId"])["KeyMetadata"]["Enabled"]
            assert time.monotonic() - started < 5  # the socket timeout is 10 s
        finally:
            for s in stalled + [plain]:
                s.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert "Traceback" not in proc.stderr.read().decode()


def test_a_server_that_fails_after_starting_exits_with_one_line_not_silently(tmp_path, monkeypatch):
    """A loop that dies (here made to, through the Python API) stops the whole server, which
    says why in one line (exit 5 at the command line) instead of serving on with fewer loops
    or exiting 0; and a server that never started never announced an endpoint."""
    import io

    from conftest import make_keyring
    from kmscli.errors import KMSInternalException
    from kmscli.serve import server as srv
    from kmscli.serve.app import KmsApp
    from kmscli.serve.log import RequestLog
    from serve_util import open_keyring

    make_keyring(tmp_path / "keyring")
    keyring = open_keyring(tmp_path / "keyring")
    keyring.master_key
    log_stream = io.StringIO()
    log = RequestLog("json", stream=log_stream)
    real_run_loop = srv.Server._run_loop
    calls = []

    def failing_second_loop(self, server):
        calls.append(server)
        if server is self.servers[1]:
            raise RuntimeError("the loop broke")
        real_run_loop(self, server)

    monkeypatch.setattr(srv.Server, "_run_loop", failing_second_loop)
    announced = []
    started = time.monotonic()
    with pytest.raises(KMSInternalException, match="kmscli serve stopped: RuntimeError: the loop broke"):
        srv.serve(KmsApp(keyring, log=log), "127.0.0.1", 0, log=log, on_listening=announced.append)
    assert time.monotonic() - started < 10
    assert len(calls) == srv.LOOPS
    assert announced == []  # the failure came before every loop was up
    events = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    assert events[-1]["event"] == "stopped on an error" and events[-1]["error"] == "RuntimeError"


def test_a_server_whose_loops_never_start_fails_instead_of_exiting_0(tmp_path, monkeypatch):
    """A loop that never starts accepting (made to, through the Python API) is a failure once
    the start timeout is over: one line, exit 5 at the command line, no endpoint announced."""
    import io

    from conftest import make_keyring
    from kmscli.errors import KMSInternalException
    from kmscli.serve import server as srv
    from kmscli.serve.app import KmsApp
    from kmscli.serve.log import RequestLog
    from serve_util import open_keyring

    make_keyring(tmp_path / "keyring")
    keyring = open_keyring(tmp_path / "keyring")
    keyring.master_key
    log = RequestLog("json", stream=io.StringIO())
    real_run_loop = srv.Server._run_loop

    def stuck_last_loop(self, server):
        if server is self.servers[-1]:
            while not server.should_exit:  # never starts, until told to stop
                time.sleep(0.02)
            return
        real_run_loop(self, server)

    monkeypatch.setattr(srv.Server, "_run_loop", stuck_last_loop)
    monkeypatch.setattr(srv, "START_TIMEOUT", 1)
    announced = []
    started = time.monotonic()
    with pytest.raises(KMSInternalException, match="did not start within 1 s"):
        srv.serve(KmsApp(keyring, log=log), "127.0.0.1", 0, log=log, on_listening=announced.append)
    assert 1 <= time.monotonic() - started < 10
    assert announced == []


def test_serve_raises_its_open_files_limit_and_serves_past_the_old_one(keyring_env, access_key):
    """Started with a soft limit of 128 open files, serve raises it to the hard limit, and
    200 connections held open do not leave it without a descriptor to accept the next one."""
    import resource

    import boto3
    from botocore.config import Config

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 512:
        pytest.fail(f"this machine's hard limit on open files ({hard}) is too low to test this")

    def low_soft_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))

    with serve_process(keyring_env, preexec_fn=low_soft_limit) as (proc, ready):
        limits = open(f"/proc/{proc.pid}/limits").read()
        soft_now = next(line.split()[3] for line in limits.splitlines() if line.startswith("Max open files"))
        assert soft_now != "128"
        port = int(ready["Endpoint"].rsplit(":", 1)[1])
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(200)]
        try:
            time.sleep(0.3)
            client = boto3.client(
                "kms", endpoint_url=ready["Endpoint"], region_name=ready["Region"],
                aws_access_key_id=access_key[0], aws_secret_access_key=access_key[1],
                config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=5),
            )
            assert client.list_keys()["Keys"] == []
        finally:
            for s in held:
                s.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
