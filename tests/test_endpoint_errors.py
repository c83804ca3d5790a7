"""Failures of the endpoint mode: each one clear error line, the documented exit status
(docs/endpoints.md), nothing on standard output, never a traceback.

6: the endpoint was not reached, refused the credentials, or did not serve (throttling and
its own failures, after botocore's retries); the remote's own refusals keep the status
their name has locally."""

from __future__ import annotations

import pytest

from conftest import run_in_process
from endpoint_util import ScriptedKms, free_port, local_caller, remote_env
from serve_util import serve_in_thread


def run(env, *args, tmp_path):
    return run_in_process(["describe-key", "--key-id", "alias/any", *args], env=env)


def one_error(r, status: int, name: str):
    assert r.status == status, r.stderr
    assert r.stdout == b""
    lines = r.stderr.splitlines()
    assert lines[0].startswith(f"kmscli: error: {name}: "), r.stderr
    assert all(line.startswith("kmscli: hint: ") for line in lines[1:]), r.stderr
    assert "Traceback" not in r.stderr


def test_an_unreachable_endpoint_is_status_6(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {**remote_env(url, "us-east-1", "AKID", "secret", tmp_path), "AWS_MAX_ATTEMPTS": "1"}
    r = run(env, tmp_path=tmp_path)
    one_error(r, 6, "EndpointConnectionException")
    assert url in r.stderr


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    local_caller(tmp)
    with serve_in_thread(tmp / "keyring") as endpoint:
        yield endpoint


def test_credentials_the_endpoint_refuses_are_status_6(served, tmp_path):
    wrong_secret = remote_env(served.url, served.region, served.access_key_id, "not-the-secret", tmp_path)
    r = run(wrong_secret, tmp_path=tmp_path)
    assert r.status == 6 and r.stdout == b""
    assert r.stderr.startswith("kmscli: error: InvalidSignatureException: "), r.stderr
    unknown_key = remote_env(served.url, served.region, "AKIAUNKNOWN0000000000", served.secret, tmp_path)
    one_error(run(unknown_key, tmp_path=tmp_path), 6, "UnrecognizedClientException")


def test_no_credentials_at_all_is_status_6(served, tmp_path):
    env = {**remote_env(served.url, served.region, "x", "y", tmp_path),
           "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    r = run(env, tmp_path=tmp_path)
    one_error(r, 6, "NoCredentialsException")


def test_no_region_is_bad_input(served, tmp_path):
    env = {**remote_env(served.url, served.region, "x", "y", tmp_path), "AWS_REGION": None}
    r = run(env, tmp_path=tmp_path)
    one_error(r, 2, "ValidationException")
    assert "--region" in r.stderr


def run_scripted(tmp_path, status: int, name: str, message: str, attempts: str):
    """One command against a test endpoint that answers every request with ``name``;
    returns (its result, the endpoint, which counted the requests)."""
    scripted = ScriptedKms(status, name, message)
    with scripted.running() as url:
        env = {**remote_env(url, "us-east-1", "AKID", "secret", tmp_path), "AWS_MAX_ATTEMPTS": attempts}
        return run(env, tmp_path=tmp_path), scripted


def test_throttling_is_retried_as_configured_then_status_6(tmp_path):
    r, scripted = run_scripted(tmp_path, 400, "ThrottlingException", "Rate exceeded", "2")
    one_error(r, 6, "ThrottlingException")
    assert "Rate exceeded" in r.stderr
    assert scripted.requests == 2  # botocore's retries, as AWS_MAX_ATTEMPTS says


def test_the_endpoint_failing_is_status_6(tmp_path):
    r, scripted = run_scripted(tmp_path, 500, "KMSInternalException", "internal failure", "1")
    one_error(r, 6, "KMSInternalException")
    assert scripted.requests == 1


def test_an_exception_kmscli_does_not_know_keeps_its_name_and_is_refused(tmp_path):
    r, scripted = run_scripted(tmp_path, 400, "KMSBrandNewException", "something AWS added later", "1")
    one_error(r, 3, "KMSBrandNewException")
    assert "something AWS added later" in r.stderr


def test_a_remote_validation_error_is_status_2(tmp_path):
    r, _ = run_scripted(tmp_path, 400, "ValidationException", "1 validation error detected", "1")
    one_error(r, 2, "ValidationException")
