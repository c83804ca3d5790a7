"""SigV4 authentication of ``kmscli serve``: every refusal AWS makes, by AWS's name, and each
leaves the keyring as it was. Requests are signed by botocore's own SigV4Auth and sent with
http.client, so a test can tamper with what was signed."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from lifecycle_util import snapshot
from serve_clients import Reply, boto3_client, call, cli_json, send, served, signed_headers  # noqa: F401

TAG = [{"TagKey": "touched", "TagValue": "yes"}]


@pytest.fixture(scope="module")
def key(served):
    return served.client().create_key(Description="auth target")["KeyMetadata"]["KeyId"]


def refused(reply: Reply, name: str, status: int = 400) -> str:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.error == name, reply.body
    assert reply.headers["content-type"].startswith("application/x-amz-json-1.1")
    message = reply.json().get("message") or reply.json().get("Message")
    assert message and "Traceback" not in message
    return message


def unchanged(served, key, before):
    """Nothing the refused request asked for happened: the files are as they were, and a
    correctly signed request sees no tag and no new key."""
    assert snapshot(served.keyring) == before
    kms = served.client()
    assert kms.list_resource_tags(KeyId=key)["Tags"] == []
    return kms


def tag_request(served, key, **overrides):
    """A TagResource request (a write) and its signed headers, signed as ``overrides`` say."""
    body = json.dumps({"KeyId": key, "Tags": TAG}).encode()
    sign = {
        "endpoint": served.endpoint,
        "region": served.region,
        "access_key_id": served.access_key_id,
        "secret": served.secret_access_key,
        "target": "TrentService.TagResource",
        "body": body,
    }
    when = overrides.pop("when", None)
    sign.update(overrides)
    return body, signed_headers(**sign, when=when)


def test_a_correctly_signed_request_is_carried_out(served, key):
    reply = call(served, "DescribeKey", {"KeyId": key})
    assert reply.status == 200, reply.body
    assert reply.json()["KeyMetadata"]["KeyId"] == key
    assert "x-amzn-requestid" in reply.headers


def test_unsigned_request(served, key):
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key)
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256"):
        headers.pop(name, None)
    refused(send(served.endpoint, headers, body), "MissingAuthenticationTokenException")
    unchanged(served, key, before)


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIDONLY",
        "AWS4-HMAC-SHA256 Credential={akid}/{date}/{region}/kms/aws4_request, Signature=00",
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-HMAC-SHA256 Credential={akid}/{date}/{region}/kms/aws4_request, SignedHeaders=host;x-amz-date",
    ],
    ids=["no-fields", "credential-only", "no-signed-headers", "no-credential", "no-signature"],
)
def test_malformed_authorization(served, key, authorization):
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key)
    date = headers["X-Amz-Date"][:8]
    headers["Authorization"] = authorization.format(akid=served.access_key_id, date=date, region=served.region)
    refused(send(served.endpoint, headers, body), "IncompleteSignatureException")
    unchanged(served, key, before)


def test_signed_without_a_date(served, key):
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key)
    del headers["X-Amz-Date"]
    reply = send(served.endpoint, headers, body)
    assert reply.error in ("IncompleteSignatureException", "MissingAuthenticationTokenException"), reply.body
    unchanged(served, key, before)


def test_wrong_secret(served, key):
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key, secret=served.secret_access_key[:-1] + "X")
    refused(send(served.endpoint, headers, body), "InvalidSignatureException")
    unchanged(served, key, before)


def test_tampered_body(served, key):
    """The body's hash is part of what is signed: the same length, another body, is refused."""
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key)
    tampered = body.replace(b'"yes"', b'"yez"')
    assert len(tampered) == len(body) and tampered != body
    refused(send(served.endpoint, headers, tampered), "InvalidSignatureException")
    unchanged(served, key, before)


@pytest.mark.parametrize(
    "header,value",
    [("X-Amz-Target", "TrentService.UntagResource"), ("Content-Type", "application/x-amz-json-1.0")],
)
def test_tampered_signed_header(served, key, header, value):
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key)
    headers[header] = value
    refused(send(served.endpoint, headers, body), "InvalidSignatureException")
    unchanged(served, key, before)


def test_unknown_access_key_id(served, key):
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key, access_key_id="AKIA" + uuid.uuid4().hex[:16].upper())
    refused(send(served.endpoint, headers, body), "UnrecognizedClientException")
    unchanged(served, key, before)


def test_wrong_region(served, key):
    other = "eu-north-1" if served.region != "eu-north-1" else "us-east-1"
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key, region=other)
    refused(send(served.endpoint, headers, body), "InvalidSignatureException")
    unchanged(served, key, before)
    # A boto3 client configured for another region is refused the same way.
    from botocore.exceptions import ClientError

    client = boto3_client(served.endpoint, other, served.access_key_id, served.secret_access_key)
    with pytest.raises(ClientError) as excinfo:
        client.tag_resource(KeyId=key, Tags=TAG)
    assert excinfo.value.response["Error"]["Code"] == "InvalidSignatureException"
    unchanged(served, key, before)


def test_wrong_service_in_the_scope(served, key):
    before = snapshot(served.keyring)
    body, headers = tag_request(served, key, service="s3")
    refused(send(served.endpoint, headers, body), "InvalidSignatureException")
    unchanged(served, key, before)


@pytest.mark.parametrize("minutes", [-6, 6, -60 * 24, 60 * 24 * 365])
def test_signature_outside_five_minutes(served, key, minutes):
    before = snapshot(served.keyring)
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    body, headers = tag_request(served, key, when=when)
    message = refused(send(served.endpoint, headers, body), "InvalidSignatureException")
    assert ("expired" if minutes < 0 else "not yet current") in message.lower(), message
    unchanged(served, key, before)


@pytest.mark.parametrize("minutes", [-4, 4])
def test_signature_within_five_minutes_is_accepted(served, key, minutes):
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    reply = call(served, "DescribeKey", {"KeyId": key}, when=when)
    assert reply.status == 200, reply.body


def test_a_deleted_access_key_stops_working_at_the_next_request(served, key):
    env = served.env
    second = cli_json(env, "create-access-key")["AccessKey"]
    listed = cli_json(env, "list-access-keys")["AccessKeyMetadata"]
    assert second["AccessKeyId"] in [k["AccessKeyId"] for k in listed]
    assert all("SecretAccessKey" not in k for k in listed)
    client = served.client(second["AccessKeyId"], second["SecretAccessKey"])
    assert client.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key  # a key made after start works

    assert cli_json(env, "delete-access-key", "--access-key-id", second["AccessKeyId"]) is None
    before = snapshot(served.keyring)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as excinfo:
        client.tag_resource(KeyId=key, Tags=TAG)
    assert excinfo.value.response["Error"]["Code"] == "UnrecognizedClientException"
    unchanged(served, key, before)
    assert second["AccessKeyId"] not in [k["AccessKeyId"] for k in cli_json(env, "list-access-keys")["AccessKeyMetadata"]]


def test_no_secret_in_the_log(served):
    log = served.log()
    assert log.strip(), "serve logs one line per request"
    assert served.secret_access_key not in log
