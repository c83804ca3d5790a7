"""A pytest plugin that runs moto's own KMS tests against ``kmscli serve`` instead of moto.

moto's tests have a server mode (``TEST_SERVER_MODE=true``): ``@mock_aws`` then sends every
boto3 client to an endpoint instead of mocking in-process. This plugin takes over that
redirection: a client for region R goes to a ``kmscli serve`` of a keyring made with
``--region R --account-id 123456789012`` (moto's account), signed with an access key of that
keyring. Each test gets fresh keyrings (copies of one template per region, made once), so that
tests which count keys see only their own, as moto's reset gives them; the servers it started
are stopped (SIGTERM) when the test ends.

Loaded by tools/foreign_suites/run_moto_kms.py with ``-p kmscli_moto_plugin``; not part of the
product. Servers bind 127.0.0.1 on a free port.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ACCOUNT = "123456789012"  # moto's DEFAULT_ACCOUNT_ID, which its tests put in ARNs
PASSPHRASE = "foreign-suite passphrase"
_ROOT = Path(os.environ.get("KMSCLI_SOURCE", Path(__file__).resolve().parents[2]))
_WORK = Path(tempfile.mkdtemp(prefix="kmscli-moto-"))
_TEMPLATES: dict[str, tuple[Path, str, str]] = {}  # region -> (keyring, access key id, secret)
_RUNNING: dict[str, tuple[subprocess.Popen, str, str, str]] = {}  # region -> (proc, url, akid, secret)
_SERIAL = [0]


def _env(keyring: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMSCLI_", "AWS_"))}
    env.update(KMSCLI_KEYRING=str(keyring), KMSCLI_PASSPHRASE=PASSPHRASE, PYTHONPATH=str(_ROOT))
    return env


def _kmscli(keyring: Path, *args) -> str:
    p = subprocess.run([sys.executable, "-m", "kmscli", *args], env=_env(keyring), capture_output=True, timeout=120)
    if p.returncode:
        raise RuntimeError(f"kmscli {' '.join(args)}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode()


def _template(region: str) -> tuple[Path, str, str]:
    if region not in _TEMPLATES:
        path = _WORK / f"template-{region}"
        _kmscli(path, "init", "--region", region, "--account-id", ACCOUNT, "--scrypt-log2-n", "10")
        key = json.loads(_kmscli(path, "create-access-key"))["AccessKey"]
        _TEMPLATES[region] = (path, key["AccessKeyId"], key["SecretAccessKey"])
    return _TEMPLATES[region]


def _server(region: str) -> tuple[str, str, str]:
    """The endpoint for ``region`` in this test, started on first use."""
    if region not in _RUNNING:
        template, akid, secret = _template(region)
        _SERIAL[0] += 1
        keyring = _WORK / f"test-{_SERIAL[0]}-{region}"
        shutil.copytree(template, keyring)
        log = open(_WORK / "serve.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "kmscli", "serve", "--host", "127.0.0.1", "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=_env(keyring),
        )
        log.close()
        line, deadline = b"", time.monotonic() + 30
        while not line.endswith(b"\n") and time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stdout], [], [], 1)[0]:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
        if not line.endswith(b"\n"):
            proc.kill()
            raise RuntimeError(f"kmscli serve did not start for {region}")
        _RUNNING[region] = (proc, json.loads(line)["Endpoint"], akid, secret)
    _, url, akid, secret = _RUNNING[region]
    return url, akid, secret


def _stop_all() -> None:
    for region, (proc, *_rest) in list(_RUNNING.items()):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        del _RUNNING[region]


def _drop_policy(params, **_):
    """--without-policies: CreateKey's Policy member left out (kmscli refuses it by name), to
    see what else the tests that pass one check. A diagnostic, not the suite's result."""
    params.pop("Policy", None)


def pytest_configure(config):
    from unittest.mock import patch

    import boto3
    from moto.core import models

    real_client = boto3.client

    def kmscli_client(*args, **kwargs):
        service = args[0] if args else kwargs.get("service_name")
        region = kwargs.get("region_name") or (args[1] if len(args) > 1 else None) or "us-east-1"
        kwargs["region_name"] = region
        args = args[:1]
        if service == "kms" and "endpoint_url" not in kwargs:
            url, akid, secret = _server(region)
            kwargs.update(endpoint_url=url, aws_access_key_id=akid, aws_secret_access_key=secret)
        client = real_client(*args, **kwargs)
        if service == "kms" and os.environ.get("KMSCLI_MOTO_WITHOUT_POLICIES") == "1":
            client.meta.events.register("provide-client-params.kms.CreateKey", _drop_policy)
        return client

    def enable(self, reset=True):
        self._client_patcher = patch("boto3.client", kmscli_client)
        self._resource_patcher = patch("boto3.resource", boto3.resource)
        self._client_patcher.start()
        self._resource_patcher.start()

    models.ServerModeMockAWS._enable_patching = enable
    models.ServerModeMockAWS.reset = lambda self: None  # each test has fresh keyrings instead


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    _stop_all()


def pytest_unconfigure(config):
    _stop_all()
    shutil.rmtree(_WORK, ignore_errors=True)
