"""`kmscli serve`: the JSON 1.1 protocol and SigV4 authentication, against botocore/boto3.

Requests are signed by botocore's own SigV4Auth (a signer nobody here wrote); the refusals
are requests a real client could send, each checked to have changed nothing."""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import urllib.parse

import pytest

from conftest import make_keyring, run_in_process
from serve_util import new_access_key, serve_in_thread

@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "keyring"
    make_keyring(path)
    with serve_in_thread(path) as ep:
        yield ep


@pytest.fixture(scope="module")
def client(endpoint):
    return endpoint.client()


@pytest.fixture(scope="module")
def key_id(client):
    return client.create_key(Description="protocol")["KeyMetadata"]["KeyId"]


def send(endpoint, headers: dict, body: bytes, path: str = "/", method: str = "POST"):
    """A raw request; (status, decoded JSON body, headers)."""
    url = urllib.parse.urlsplit(endpoint.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None), response.headers  # names case-insensitive, as HTTP
    finally:
        conn.close()


def signed_headers(endpoint, target: str, body: bytes, *, akid=None, secret=None, region=None, service="kms",
                   extra=None, when=None):
    """Headers botocore's SigV4Auth signs for ``body`` (at ``when``, default now)."""
    from unittest import mock

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=endpoint.url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"TrentService.{target}", **(extra or {})},
    )
    signer = SigV4Auth(Credentials(akid or endpoint.access_key_id, secret or endpoint.secret), service, region or endpoint.region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when.replace(tzinfo=None)):
            signer.add_auth(request)
    return dict(request.headers.items())


def call(endpoint, target: str, document, **signing):
    body = json.dumps(document).encode() if not isinstance(document, bytes) else document
    return send(endpoint, signed_headers(endpoint, target, body, **signing), body)


def key_count(endpoint) -> int:
    status, body, _ = call(endpoint, "ListKeys", {})
    assert status == 200, body
    return len(body["Keys"])


# --- the protocol, through boto3 -------------------------------------------------------------


def test_boto3_round_trip_with_blobs_timestamps_and_context(client, key_id):
    blob = client.encrypt(KeyId=key_id, Plaintext=b"\x00secret\xff", EncryptionContext={"app": "t"})["CiphertextBlob"]
    answer = client.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "t"})
    assert answer["Plaintext"] == b"\x00secret\xff"
    assert answer["KeyId"].endswith(key_id)
    meta = client.describe_key(KeyId=key_id)["KeyMetadata"]
    assert isinstance(meta["CreationDate"], dt.datetime)  # epoch seconds on the wire, parsed by botocore
    assert abs(meta["CreationDate"] - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=10)
    assert len(client.generate_random(NumberOfBytes=33)["Plaintext"]) == 33


def test_every_response_carries_a_request_id_the_json_content_type_and_the_date(endpoint):
    import email.utils

    for operation in ("ListKeys", "NoSuchOperation"):
        status, body, headers = call(endpoint, operation, {})
        assert status == (200 if operation == "ListKeys" else 400)
        assert headers["Content-Type"] == "application/x-amz-json-1.1"
        assert len(headers["x-amzn-RequestId"]) == 36
        # The SDKs correct a skewed clock from the Date of a refusal (the JS SDK does).
        served = email.utils.parsedate_to_datetime(headers["Date"])
        assert abs((served - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


def test_signatures_made_through_serve_verify_outside_with_the_public_key(client):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    signature = client.sign(KeyId=key, Message=b"msg", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    public = serialization.load_der_public_key(client.get_public_key(KeyId=key)["PublicKey"])
    public.verify(signature, b"msg", ec.ECDSA(hashes.SHA256()))  # raises if it does not verify
    assert client.verify(KeyId=key, Message=b"msg", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    with pytest.raises(client.exceptions.KMSInvalidSignatureException):
        client.verify(KeyId=key, Message=b"other", Signature=signature, SigningAlgorithm="ECDSA_SHA_256")


def test_service_errors_have_awss_names_and_400(client):
    with pytest.raises(client.exceptions.NotFoundException) as e:
        client.describe_key(KeyId="alias/none")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(client.exceptions.InvalidCiphertextException):
        client.decrypt(CiphertextBlob=b"not a ciphertext at all, surely")


def test_an_aws_operation_kmscli_does_not_offer_is_unsupported_by_name(client, key_id):
    with pytest.raises(client.exceptions.UnsupportedOperationException, match="CreateGrant"):
        client.create_grant(KeyId=key_id, GranteePrincipal="arn:aws:iam::000000000000:root", Operations=["Encrypt"])


def test_cross_cutting_members_are_the_clis_rules_and_a_dry_run_is_400(client, key_id):
    """GrantTokens, DryRun, Policy...: the service's rules (kmscli/service/request.py), as the
    CLI applies them; DryRunOperationException with AWS's HTTP status, 400 (as recorded from
    AWS KMS: tests/test_aws_recorded.py)."""
    assert client.encrypt(KeyId=key_id, Plaintext=b"x", GrantTokens=["token"])["CiphertextBlob"]
    with pytest.raises(client.exceptions.DryRunOperationException) as e:
        client.encrypt(KeyId=key_id, Plaintext=b"x", DryRun=True)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(client.exceptions.UnsupportedOperationException, match="key policies"):
        client.create_key(Policy='{"Version": "2012-10-17"}')


def test_unknown_target_is_unknown_operation(endpoint):
    for target in ("Nonsense", "Encrypt/../x", ""):
        status, body, _ = call(endpoint, target, {})
        assert (status, body["__type"]) == (400, "UnknownOperationException"), target


def test_malformed_json_and_wrong_types_are_serialization_errors(endpoint, key_id):
    before = key_count(endpoint)
    for document in (b"{not json", b"[1, 2]", b'{"Description": 5}', b'{"Tags": {"a": "b"}}', b'{"Description": NaN}'):
        status, body, _ = call(endpoint, "CreateKey", document)
        assert (status, body["__type"]) == (400, "SerializationException"), document
    status, body, _ = call(endpoint, "Encrypt", {"KeyId": key_id, "Plaintext": "not base64!"})
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body, _ = call(endpoint, "GenerateRandom", {"NumberOfBytes": "12"})
    assert (status, body["__type"]) == (400, "SerializationException")
    assert key_count(endpoint) == before


def test_a_missing_required_member_is_a_validation_error_as_aws_words_it(endpoint):
    status, body, _ = call(endpoint, "Encrypt", {"Plaintext": "aGk="})
    assert status == 400 and body["__type"] == "ValidationException"
    assert "Value null at 'keyId' failed to satisfy constraint: Member must not be null" in body["message"]


def test_members_aws_does_not_know_are_ignored_as_aws_does(endpoint, key_id):
    status, body, _ = call(endpoint, "DescribeKey", {"KeyId": key_id, "NoSuchMember": 1})
    assert status == 200 and body["KeyMetadata"]["KeyId"] == key_id
    assert isinstance(body["KeyMetadata"]["CreationDate"], (int, float))


def test_service_validation_is_the_clis(endpoint, key_id):
    """The same check, and message, as the CLI gives: the server adds none of its own."""
    status, body, _ = call(endpoint, "GenerateRandom", {"NumberOfBytes": 0})
    cli = run_in_process(["generate-random", "--number-of-bytes", "0"])
    assert (status, body["__type"]) == (400, "ValidationException")
    assert body["message"] in cli.stderr


# --- authentication: each refusal changes nothing ----------------------------------------------


def refused(endpoint, headers, body=b'{"Description": "should not exist"}'):
    before = key_count(endpoint)
    status, answer, _ = send(endpoint, headers, body)
    assert key_count(endpoint) == before
    return status, answer["__type"], answer["message"]


def create_key_headers(endpoint, body=b'{"Description": "should not exist"}', **signing):
    return signed_headers(endpoint, "CreateKey", body, **signing)


def test_unsigned_is_missing_authentication_token(endpoint):
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.CreateKey"}
    assert refused(endpoint, headers)[:2] == (400, "MissingAuthenticationTokenException")


def test_malformed_authorization_is_incomplete_signature(endpoint):
    good = create_key_headers(endpoint)
    for authorization in ("AWS4-HMAC-SHA256 Credential=x", "Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00"):
        assert refused(endpoint, {**good, "Authorization": authorization})[:2] == (400, "IncompleteSignatureException")
    no_date = {k: v for k, v in good.items() if k.lower() != "x-amz-date"}
    assert refused(endpoint, no_date)[:2] == (400, "IncompleteSignatureException")


def test_a_wrong_secret_is_invalid_signature(endpoint):
    status, name, message = refused(endpoint, create_key_headers(endpoint, secret="x" * 40))
    assert (status, name) == (400, "InvalidSignatureException")
    assert "does not match" in message


def test_an_unknown_access_key_is_unrecognized_client(endpoint):
    headers = create_key_headers(endpoint, akid="AKIAAAAAAAAAAAAAAAAA")
    assert refused(endpoint, headers)[:2] == (400, "UnrecognizedClientException")
    headers = create_key_headers(endpoint, extra={"X-Amz-Security-Token": "session"})
    assert refused(endpoint, headers)[:2] == (400, "UnrecognizedClientException")


def test_wrong_region_and_wrong_service_are_invalid_signature(endpoint):
    status, name, message = refused(endpoint, create_key_headers(endpoint, region="us-east-1"))
    assert (status, name) == (400, "InvalidSignatureException") and "region" in message
    status, name, message = refused(endpoint, create_key_headers(endpoint, service="s3"))
    assert (status, name) == (400, "InvalidSignatureException") and "service" in message


@pytest.mark.parametrize("minutes, words", [(-6, "Signature expired"), (6, "Signature not yet current")])
def test_outside_five_minutes_is_refused_and_inside_is_accepted(endpoint, minutes, words):
    now = dt.datetime.now(dt.timezone.utc)
    status, name, message = refused(endpoint, create_key_headers(endpoint, when=now + dt.timedelta(minutes=minutes)))
    assert (status, name) == (400, "InvalidSignatureException") and words in message
    inside = now + dt.timedelta(minutes=4 if minutes > 0 else -4)
    status, body, _ = call(endpoint, "ListKeys", {}, when=inside)
    assert status == 200, body


def test_a_body_changed_after_signing_is_invalid_signature(endpoint):
    headers = create_key_headers(endpoint, body=b'{"Description": "a"}')
    status, name, _ = refused(endpoint, headers, body=b'{"Description": "b"}')
    assert (status, name) == (400, "InvalidSignatureException")


def test_a_content_sha256_header_that_lies_is_refused(endpoint):
    body = b'{"Description": "a"}'
    headers = create_key_headers(endpoint, body=body, extra={"X-Amz-Content-SHA256": "0" * 64})
    status, name, _ = refused(endpoint, headers, body=body)
    assert (status, name) == (400, "InvalidSignatureException")


def test_a_header_changed_after_signing_is_invalid_signature(endpoint):
    headers = create_key_headers(endpoint)
    headers["X-Amz-Target"] = "TrentService.ScheduleKeyDeletion"
    assert refused(endpoint, headers)[:2] == (400, "InvalidSignatureException")


def test_a_deleted_access_key_stops_working_at_the_next_request(endpoint):
    akid, secret = new_access_key(endpoint.keyring_path)
    status, _, _ = call(endpoint, "ListKeys", {}, akid=akid, secret=secret)
    assert status == 200
    assert run_in_process(
        ["delete-access-key", "--access-key-id", akid],
        env={"KMSCLI_KEYRING": str(endpoint.keyring_path), "KMSCLI_PASSPHRASE": "correct horse battery staple"},
    ).status == 0
    status, body, _ = call(endpoint, "ListKeys", {}, akid=akid, secret=secret)
    assert (status, body["__type"]) == (400, "UnrecognizedClientException")


# --- hostile bodies ------------------------------------------------------------------------------


def test_a_body_over_the_cap_is_refused_and_the_client_that_sends_it_all_reads_the_413(endpoint):
    """The 413 goes out before the body is read; the server then reads and drops the rest
    until the client closes (a lingering close), so that a client which sends its whole
    body before reading (http.client, the SDKs) reads the 413 instead of a reset."""
    body = b'{"Description": "' + b"a" * (4 << 20) + b'"}'
    url = urllib.parse.urlsplit(endpoint.url)
    for _ in range(3):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            conn.request("POST", "/", body=body, headers=create_key_headers(endpoint, body=body))
            response = conn.getresponse()
            assert response.status == 413
            assert json.loads(response.read())["__type"] == "ValidationException"
        finally:
            conn.close()
    assert key_count(endpoint) >= 0  # still answering


def test_a_body_announced_over_the_cap_gets_a_json_413_every_sdk_parses(endpoint):
    """The refusal is AWS's JSON error shape, not an HTTP server's plain text: the JS SDK
    throws a SyntaxError on a body it cannot parse as JSON."""
    import socket

    url = urllib.parse.urlsplit(endpoint.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.CreateKey\r\n"
                  b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n{" % (2 << 20))
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    response = http.client.HTTPResponse(_Replay(answer))
    response.begin()
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/x-amz-json-1.1"
    assert json.loads(response.read())["__type"] == "ValidationException"


class _Replay:
    def __init__(self, data: bytes):
        self.data = data

    def makefile(self, mode):
        return io.BytesIO(self.data)


def test_a_hostile_body_never_shows_a_traceback(endpoint):
    for body in (b"\xff\xfe", b'{"KeyId": ' * 5000 + b"1", b"{}" * 1000, b'{"Tags": [{"TagKey": null}]}'):
        status, answer, _ = send(endpoint, create_key_headers(endpoint, body=body), body)
        assert status == 400, (body[:20], answer)
        assert "Traceback" not in answer["message"] and answer["__type"] != "KMSInternalException"


def test_a_body_over_the_cap_is_logged_with_the_413_the_client_got(tmp_path):
    import socket

    make_keyring(tmp_path / "keyring")
    log = io.StringIO()
    with serve_in_thread(tmp_path / "keyring", log_stream=log) as ep:
        url = urllib.parse.urlsplit(ep.url)
        with socket.create_connection((url.hostname, url.port), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.CreateKey\r\n"
                      b"Content-Length: %d\r\n\r\n{" % (2 << 20))
            assert s.recv(65536).startswith(b"HTTP/1.1 413 ")
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    logged = [line for line in lines if line.get("operation") == "CreateKey"]
    assert [(line["status"], line["error"]) for line in logged] == [(413, "ValidationException")]
