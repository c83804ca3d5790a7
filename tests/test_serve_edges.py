"""AWS KMS's JSON 1.1 protocol at the edges: unknown targets, malformed bodies, operations
kmscli does not offer, oversized bodies, slow clients, the request log, and a SIGTERM with
requests in flight. Raw requests are signed by botocore and sent with sockets/http.client."""

from __future__ import annotations

import json
import signal
import socket
import time

import pytest

from lifecycle_util import snapshot
from serve_clients import (
    Reply,
    call,
    cli_json,
    make_keyring,
    new_access_key,
    send,
    served,  # noqa: F401
    signed_headers,
    start_server,
)


def raw(served, target: str, body: bytes) -> Reply:
    """``body`` sent as is under ``target``, correctly signed."""
    headers = signed_headers(served.endpoint, served.region, served.access_key_id, served.secret_access_key,
                             target, body)
    return send(served.endpoint, headers, body)


@pytest.mark.parametrize("target", ["TrentService.Frobnicate", "TrentService.", "DynamoDB_20120810.ListTables",
                                    "TrentService.Encrypt/../x", "TrentService." + "A" * 300])
def test_unknown_target(served, target):
    reply = raw(served, target, b"{}")
    assert (reply.status, reply.error) == (400, "UnknownOperationException"), reply.body


@pytest.mark.parametrize("body", [b'{"KeyId": ', b"not json", b"\xff\xfe", b"[]", b'"KeyId"', b'{"Limit": "ten"}',
                                  b'{"Limit": 1, "Limit": {}}'])
def test_malformed_json_is_a_serialization_exception(served, body):
    reply = raw(served, "TrentService.ListKeys", body)
    assert (reply.status, reply.error) == (400, "SerializationException"), reply.body
    assert "Traceback" not in reply.body.decode("utf-8", "replace")


def test_deeply_nested_json_is_refused_cleanly(served):
    body = b'{"KeyId": "x", "Tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    reply = raw(served, "TrentService.TagResource", body)
    assert reply.status == 400 and reply.error in ("SerializationException", "ValidationException"), reply.body


@pytest.mark.parametrize("operation", ["CreateGrant", "ListGrants", "RetireGrant", "CreateCustomKeyStore",
                                       "ReplicateKey", "PutKeyPolicy", "UpdatePrimaryRegion"])
def test_an_aws_operation_kmscli_does_not_offer(served, operation):
    reply = call(served, operation, {"KeyId": "alias/x"} if operation != "CreateCustomKeyStore" else {})
    assert (reply.status, reply.error) == (400, "UnsupportedOperationException"), reply.body
    assert operation in reply.json()["message"]


def test_botocore_parses_errors_with_the_request_id(served):
    from botocore.exceptions import ClientError

    kms = served.client()
    with pytest.raises(ClientError) as excinfo:
        kms.describe_key(KeyId="alias/none")
    response = excinfo.value.response
    assert response["Error"]["Code"] == "NotFoundException"
    assert response["ResponseMetadata"]["RequestId"]


def test_oversized_body_is_refused_early(served):
    """A body announced far above any legal KMS request is refused without the server
    waiting for (or holding) all of it, and the server goes on serving."""
    before = snapshot(served.keyring)
    announced = 64 << 20
    headers = signed_headers(served.endpoint, served.region, served.access_key_id, served.secret_access_key,
                             "TrentService.ListKeys", b"{}")
    head = "POST / HTTP/1.1\r\nHost: {}\r\n".format(headers.get("Host", f"127.0.0.1:{served.port}"))
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() not in ("host", "content-length"))
    head += f"Content-Length: {announced}\r\n\r\n"
    with socket.create_connection((served.host, served.port), timeout=10) as s:
        s.sendall(head.encode())
        chunk = b" " * 65536
        sent = 0
        try:
            while sent < (2 << 20):  # 2 MiB of the 64 announced, then wait for the answer
                s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(15)
        try:
            answer = s.recv(4096)
        except ConnectionResetError:
            answer = b""
    if answer:
        status = int(answer.split(b" ", 2)[1])
        assert status in (400, 413), answer[:300]
    # Either way the server is alive, answers, and nothing changed.
    assert call(served, "ListKeys").status == 200
    assert snapshot(served.keyring) == before


def test_a_body_just_under_the_limit_of_aws_is_read_whole(served):
    """A legal request near AWS's largest (a 6 KiB ciphertext blob, base64) gets an answer on
    its merits (here: not a ciphertext), not a size refusal."""
    import base64

    body = json.dumps({"CiphertextBlob": base64.b64encode(b"\x01" * 6144).decode()}).encode()
    reply = raw(served, "TrentService.Decrypt", body)
    assert reply.error == "InvalidCiphertextException", reply.body


def test_slow_clients_do_not_block_others(served):
    """Stalled connections (half a request line, headers without a body, a body trickling) do
    not hold up anyone else: 30 requests from a normal client finish in bounded time."""
    stalled = []
    try:
        for n in range(8):
            s = socket.create_connection((served.host, served.port), timeout=5)
            if n % 2:
                s.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{")
            else:
                s.sendall(b"POST / HT")
            stalled.append(s)
        kms = served.client(read_timeout=10)
        started = time.monotonic()
        for _ in range(30):
            kms.list_keys(Limit=1)
        elapsed = time.monotonic() - started
        assert elapsed < 15, f"30 requests took {elapsed:.1f} s beside 8 stalled connections"
    finally:
        for s in stalled:
            s.close()
    assert served.alive()


def test_every_request_is_logged_on_one_line(served):
    kms = served.client()
    created = kms.create_key(Description="logged")
    key = created["KeyMetadata"]["KeyId"]
    described = kms.describe_key(KeyId=key)
    unknown = raw(served, "TrentService.Frobnicate", b"{}")
    requests = {
        created["ResponseMetadata"]["RequestId"]: ("CreateKey", key),
        described["ResponseMetadata"]["RequestId"]: ("DescribeKey", key),
        unknown.headers["x-amzn-requestid"]: ("UnknownOperationException", None),
    }
    lines = served.log().splitlines()
    for request_id, (words) in requests.items():
        mine = [line for line in lines if request_id in line]
        assert len(mine) == 1, (request_id, mine)
        assert all(w in mine[0] for w in words if w), (words, mine[0])
    assert served.secret_access_key not in served.log()


def _request_bytes(server, operation: str, request: dict) -> bytes:
    body = json.dumps(request).encode()
    headers = signed_headers(server.endpoint, server.region, server.access_key_id, server.secret_access_key,
                             f"TrentService.{operation}", body)
    head = f"POST / HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() not in ("host", "content-length"))
    return head.encode() + b"\r\n" + body


def _response(sock) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of an answer"
        rest += chunk
    return int(head.split(b" ", 2)[1]), json.loads(rest[:length])


def test_json_log_and_sigterm_with_requests_in_flight(tmp_path):
    """--log-format json: one JSON object a line. SIGTERM while keys are being generated (and
    while one request is still arriving): every request in flight is answered, the server
    exits 0, and the keys it acknowledged exist."""
    env = make_keyring(tmp_path / "keyring")
    server = start_server(env, tmp_path / "serve.log", "--log-format", "json", access_key=new_access_key(env))
    sockets = []
    try:
        for _ in range(3):  # RSA-4096 generation: long enough to be in flight at the signal
            s = socket.create_connection((server.host, server.port), timeout=60)
            s.sendall(_request_bytes(server, "CreateKey", {"KeySpec": "RSA_4096", "KeyUsage": "SIGN_VERIFY"}))
            sockets.append(s)
        arriving = _request_bytes(server, "CreateKey", {"Description": "arriving at SIGTERM"})
        s = socket.create_connection((server.host, server.port), timeout=60)
        s.sendall(arriving[:-10])
        sockets.append(s)
        # A request on a new connection answered: the server has accepted the earlier ones.
        assert call(server, "ListKeys").status == 200
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        s.sendall(arriving[-10:])
        answers = [_response(s) for s in sockets]
        assert [status for status, _ in answers] == [200] * 4, answers
        assert server.proc.wait(timeout=60) == 0, server.log()[-2000:]
    finally:
        for s in sockets:
            s.close()
        if server.alive():
            server.stop(signal.SIGKILL)
    results = [doc["KeyMetadata"]["KeyId"] for _, doc in answers]
    listed = {k["KeyId"] for k in cli_json(env, "list-keys")["Keys"]}
    assert set(results) <= listed
    records = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert len([r for r in records if "CreateKey" in json.dumps(r)]) == 4, records
    assert server.secret_access_key not in server.log()


BAD_MEMBERS = [
    {},
    {"KeyId": 1},
    {"KeyId": None},
    {"KeyId": ["alias/x"]},
    {"KeyId": "x" * 20000},
    {"KeyId": "alias/\u0000\u202e"},
    {"KeyId": "alias/x", "Plaintext": "not base64!"},
    {"KeyId": "alias/x", "Plaintext": ""},
    {"CiphertextBlob": ""},
    {"CiphertextBlob": "AAAA", "EncryptionContext": {"a": 1}},
    {"CiphertextBlob": "AAAA", "EncryptionContext": "a=b"},
    {"Limit": -1},
    {"Limit": 10**30},
    {"Limit": 1.5},
    {"Marker": "\udcff"},
    {"KeyId": "alias/x", "Tags": "x"},
    {"KeyId": "alias/x", "Tags": [{"TagKey": 1}]},
    {"KeyId": "alias/x", "NumberOfBytes": True},
    {"NumberOfBytes": -5},
    {"KeyId": "alias/x", "PendingWindowInDays": "7"},
    {"KeyId": "alias/x", "ValidTo": "tomorrow"},
    {"KeyId": "alias/x", "ValidTo": 1e300},
    {"Unknown": "member"},
]


def test_no_malformed_request_is_an_internal_error(served):
    """Every operation kmscli offers, with members of wrong types, sizes and values: AWS's JSON
    error with 400 (or, where the request happens to be valid, such as CreateKey {}, an answer),
    never a 500 or a traceback, and the server goes on."""
    from kmscli.service.operations import OPERATIONS

    seen, wrong = set(), []
    for name in OPERATIONS:
        for members in BAD_MEMBERS:
            body = json.dumps(members).encode()
            reply = raw(served, f"TrentService.{name}", body)
            if reply.status not in (200, 400) or (reply.status == 400 and not reply.error):
                wrong.append((name, members, reply.status, reply.body[:200]))
            if reply.status == 400:
                seen.add(reply.error)
    assert wrong == [], wrong
    assert "Traceback" not in served.log()
    assert {"SerializationException", "ValidationException", "NotFoundException"} <= seen, seen
    assert call(served, "ListKeys").status == 200


def test_many_idle_connections_do_not_lock_others_out(served):
    """300 connections that send nothing (more than the server keeps or queues) do not stop a
    normal client from being served in bounded time."""
    idle = []
    try:
        for _ in range(300):
            try:
                idle.append(socket.create_connection((served.host, served.port), timeout=5))
            except OSError:
                break  # the server (or the kernel's backlog) refused more: that is fine too
        kms = served.client(read_timeout=15, connect_timeout=15)
        started = time.monotonic()
        for _ in range(5):
            kms.list_keys(Limit=1)
        assert time.monotonic() - started < 30
    finally:
        for s in idle:
            s.close()
    assert served.alive()


def test_serving_reads_writes_nothing(tmp_path):
    """Start, unlock, answer reads and cryptographic requests, stop: the keyring's files are
    byte for byte what they were (the master key stays in the process)."""
    env = make_keyring(tmp_path / "keyring")
    key = cli_json(env, "create-key")["KeyMetadata"]["KeyId"]
    signer = cli_json(env, "create-key", "--key-spec", "ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    access = new_access_key(env)
    before = snapshot(tmp_path / "keyring")
    server = start_server(env, tmp_path / "serve.log", access_key=access)
    try:
        kms = server.client()
        blob = kms.encrypt(KeyId=key, Plaintext=b"read only")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"read only"
        kms.generate_data_key(KeyId=key, KeySpec="AES_256")
        kms.sign(KeyId=signer, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")
        kms.get_public_key(KeyId=signer)
        kms.describe_key(KeyId=key)
        kms.list_keys()
        kms.list_aliases()
        kms.generate_random(NumberOfBytes=16)
    finally:
        assert server.stop() == 0
    assert snapshot(tmp_path / "keyring") == before
