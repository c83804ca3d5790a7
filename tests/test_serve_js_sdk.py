"""The AWS SDK for JavaScript v3 (``@aws-sdk/client-kms``) against ``kmscli serve``.

boto3, aws-cli and the AWS Encryption SDK for Python all share botocore's serializer, signer
and parser; the JS SDK has its own of each, so it checks the wire protocol a second time.
tests/js/kms_check.mjs runs the everyday operations through it and asserts, in JavaScript,
that every response parses into the SDK's shapes (timestamps as Date, blobs as Uint8Array)
and every error into the SDK's exception class with AWS's name and HTTP status. This module
starts the server, runs the script (time-bounded), and checks its results again with
programs of its own: openssl verifies a signature made through the JS SDK, and kmscli's CLI
reads what the JS SDK wrote to the keyring.

Needs node and ``tests/js/node_modules``: ``.ci/run`` installs both; a developer runs
``npm ci --prefix tests/js`` once. Without them these tests fail (they are never skipped).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from serve_clients import cli, cli_json, make_keyring, new_access_key, process_env, served  # noqa: F401

JS = Path(__file__).resolve().parent / "js"
SCRIPT = JS / "kms_check.mjs"
SDK_PACKAGE = JS / "node_modules" / "@aws-sdk" / "client-kms" / "package.json"
SCRIPT_TIMEOUT = 180  # seconds: its ~170 requests take 2-4 s here, far longer on a loaded machine

CHECKS = {
    "CreateKey",
    "DescribeKey",
    "ListKeys paging",
    "CreateAlias ListAliases",
    "Encrypt Decrypt",
    "GenerateDataKey",
    "RSA Encrypt Decrypt",
    "Sign Verify GetPublicKey",
    "GenerateMac VerifyMac",
    "TagResource ListResourceTags",
    "errors",
    "key rotation and import dates",
    "ReEncrypt GenerateDataKeyPair",
    "authentication refusals",
    "clock skew corrected from the Date header",
    "AWS_ENDPOINT_URL_KMS",
    "parallel requests",
    "ScheduleKeyDeletion",
}
# What the JS SDK made of each refusal: err.name (its own exception class for the modelled
# ones) and err.$metadata.httpStatusCode.
ERRORS = {
    "notFound": "NotFoundException",
    "notFoundAlias": "NotFoundException",
    "disabled": "DisabledException",
    "invalidCiphertext": "InvalidCiphertextException",
    "wrongContext": "InvalidCiphertextException",
    "tampered": "InvalidCiphertextException",
    "unsupported": "UnsupportedOperationException",
    "invalidKeyUsage": "InvalidKeyUsageException",
    "validation": "ValidationException",
    "aliasExists": "AlreadyExistsException",
    "badSignature": "KMSInvalidSignatureException",
    "badMac": "KMSInvalidMacException",
    "pendingDeletion": "KMSInvalidStateException",
    "wrongSecret": "InvalidSignatureException",
    "unknownAccessKey": "UnrecognizedClientException",
    "wrongRegion": "InvalidSignatureException",
    "skewed": "InvalidSignatureException",
}


def node_or_fail() -> str:
    """node and the installed JS SDK, or a failure that says how to get them (not a skip:
    a missing client must not pass for a passing suite)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not installed: the JS SDK test needs node and npm "
            "(apt-get install nodejs npm; .ci/run does it), then `npm ci --prefix tests/js`",
            pytrace=False,
        )
    if not SDK_PACKAGE.is_file():
        pytest.fail(
            f"the AWS SDK for JavaScript is not installed under {JS / 'node_modules'}: "
            "run `npm ci --prefix tests/js` (.ci/run does it)",
            pytrace=False,
        )
    return node


@pytest.fixture(scope="module")
def js(served):
    """The script's JSON document, run once for the module against one server."""
    node = node_or_fail()
    env = process_env(
        {
            "AWS_ENDPOINT_URL_KMS": served.endpoint,
            "AWS_REGION": served.region,
            "AWS_ACCESS_KEY_ID": served.access_key_id,
            "AWS_SECRET_ACCESS_KEY": served.secret_access_key,
            # The SDK's notice that its releases after January 2027 need node 22 is noise here:
            # package-lock.json pins one that runs on node 18 (Debian 12's) and 20.
            "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
        }
    )
    p = subprocess.run(
        [node, str(SCRIPT)],
        cwd=JS,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=SCRIPT_TIMEOUT,
    )
    stderr = p.stderr.decode("utf-8", "replace")
    assert p.stdout.strip(), f"kms_check.mjs printed nothing (status {p.returncode}): {stderr[-3000:]}"
    document = json.loads(p.stdout)
    document["status"], document["stderr"] = p.returncode, stderr
    return document


def test_every_js_sdk_check_passes(js):
    failed = {name: result for name, result in js["checks"].items() if result != "ok"}
    assert not failed, f"@aws-sdk/client-kms {js['sdkVersion']}: {json.dumps(failed, indent=1)}"
    assert set(js["checks"]) == CHECKS  # none skipped, none renamed away
    assert js["status"] == 0, js["stderr"][-3000:]


def test_js_sdk_errors_have_aws_names_and_status(js):
    seen = {case: (error["name"], error["status"]) for case, error in js["facts"]["errors"].items()}
    assert seen == {case: (name, 400) for case, name in ERRORS.items()}
    errors = js["facts"]["errors"]
    assert "CreateGrant" in errors["unsupported"]["message"]
    assert errors["skewed"]["message"].startswith("Signature expired:")
    assert errors["notFound"]["message"].endswith("does not exist")


def test_signature_made_through_the_js_sdk_verifies_with_openssl(js, tmp_path):
    signature = js["facts"]["signature"]
    message = tmp_path / "message"
    message.write_bytes(base64.b64decode(signature["message"]))
    p = subprocess.run(
        ["openssl", "pkey", "-pubin", "-inform", "DER", "-out", tmp_path / "ecc.pem"],
        input=base64.b64decode(signature["publicKey"]),
        capture_output=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr

    def openssl_verifies(signed: Path, sig: bytes) -> bool:
        (tmp_path / "sig").write_bytes(sig)
        p = subprocess.run(
            ["openssl", "dgst", "-sha256", "-verify", tmp_path / "ecc.pem", "-signature", tmp_path / "sig", signed],
            capture_output=True,
            timeout=60,
        )
        assert p.returncode in (0, 1), p.stderr
        return p.returncode == 0

    for kind in ("raw", "digest"):  # MessageType RAW and DIGEST sign the same SHA-256 digest
        assert openssl_verifies(message, base64.b64decode(signature[kind])), kind
    other = tmp_path / "other"
    other.write_bytes(message.read_bytes() + b"!")
    assert not openssl_verifies(other, base64.b64decode(signature["raw"]))


def test_kmscli_reads_what_the_js_sdk_wrote(js, served):
    keys = js["facts"]["keys"]
    listed = {k["KeyId"] for k in cli_json(served.env, "list-keys")["Keys"]}
    assert set(keys.values()) <= listed
    assert set(js["facts"]["listedKeys"]) <= listed
    assert cli_json(served.env, "list-aliases", "--key-id", keys["symmetric"])["Aliases"][0]["AliasName"] == "alias/js-sdk"
    tags = cli_json(served.env, "list-resource-tags", "--key-id", keys["symmetric"])["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "platform"}]
    # The ciphertext made through the JS SDK, with a non-ASCII encryption context, opens with the CLI.
    ciphertext = js["facts"]["ciphertext"]
    context = json.dumps(ciphertext["context"], ensure_ascii=False)
    status, out, err = cli(
        served.env, "decrypt", "--ciphertext-blob", ciphertext["blob"], "--encryption-context", context,
        "--query", "Plaintext", "--output", "text",
    )
    assert status == 0, err
    assert base64.b64decode(out.strip()) == base64.b64decode(ciphertext["plaintext"])
    # ScheduleKeyDeletion's DeletionDate, as the JS SDK parsed it, is the keyring's.
    meta = cli_json(served.env, "describe-key", "--key-id", keys["hmac"])["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    deletion = dt.datetime.fromisoformat(meta["DeletionDate"]).timestamp()
    assert deletion == pytest.approx(js["facts"]["deletionDate"], abs=0.001)
    # ImportKeyMaterial's ValidTo, serialized by the JS SDK (epoch seconds with a fraction).
    imported = cli_json(served.env, "describe-key", "--key-id", js["facts"]["imported"]["keyId"])["KeyMetadata"]
    valid_to = dt.datetime.fromisoformat(imported["ValidTo"]).timestamp()
    assert valid_to == pytest.approx(js["facts"]["imported"]["validTo"], abs=1)
    assert valid_to - dt.datetime.now(dt.timezone.utc).timestamp() == pytest.approx(30 * 86400, abs=3600)
    disabled = cli_json(served.env, "describe-key", "--key-id", js["facts"]["disabledKey"])["KeyMetadata"]
    assert disabled["KeyState"] == "Disabled"


def test_the_server_log_has_the_js_sdks_request_ids_and_no_secret(js, served):
    log = served.log().splitlines()
    assert not [line for line in log if served.secret_access_key in line]
    # err.$metadata.requestId is the x-amzn-RequestId the server logged with the refusal.
    for case in ("notFound", "disabled", "unsupported", "badSignature"):
        error = js["facts"]["errors"][case]
        lines = [line for line in log if f"request_id={error['requestId']}" in line]
        assert len(lines) == 1 and f" error={error['name']} " in lines[0], (case, lines)



# Over TLS (--tls-cert, --tls-key), trusting the server's certificate through node's own
# NODE_EXTRA_CA_CERTS: node's TLS stack, not Python's, checks the server's certificate.
TLS_CLIENT = """
import { KMSClient, CreateKeyCommand, EncryptCommand, DecryptCommand } from "@aws-sdk/client-kms";
const kms = new KMSClient({
  endpoint: process.env.ENDPOINT, region: process.env.REGION, maxAttempts: 1,
  credentials: { accessKeyId: process.env.KEY_ID, secretAccessKey: process.env.SECRET },
});
try {
  const key = (await kms.send(new CreateKeyCommand({}))).KeyMetadata.KeyId;
  const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: key, Plaintext: Buffer.from("over TLS") }));
  const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob }));
  console.log(JSON.stringify({ plaintext: Buffer.from(Plaintext).toString() }));
} catch (e) {
  console.log(JSON.stringify({ error: e.code ?? e.name }));
}
kms.destroy();
"""


def test_js_sdk_over_tls(tmp_path):
    from serve_util import serve_process

    node = node_or_fail()
    p = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
         "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
        capture_output=True, timeout=60,
    )
    assert p.returncode == 0, p.stderr
    env = make_keyring(tmp_path / "keyring")
    key = new_access_key(env)
    args = ["--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]
    with serve_process(env, *args) as (proc, ready):
        assert ready and ready["Endpoint"].startswith("https://127.0.0.1:"), ready

        def run(trust: dict) -> dict:
            client_env = process_env(
                {
                    "ENDPOINT": ready["Endpoint"], "REGION": ready["Region"],
                    "KEY_ID": key["AccessKeyId"], "SECRET": key["SecretAccessKey"],
                    "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
                    "NODE_EXTRA_CA_CERTS": None, "NODE_TLS_REJECT_UNAUTHORIZED": None, **trust,
                }
            )
            out = subprocess.run(
                [node, "--input-type=module", "-e", TLS_CLIENT], cwd=JS, env=client_env,
                stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
            )
            assert out.returncode == 0 and out.stdout.strip(), out.stderr.decode(errors="replace")[-2000:]
            return json.loads(out.stdout)

        assert run({"NODE_EXTRA_CA_CERTS": str(tmp_path / "cert.pem")}) == {"plaintext": "over TLS"}
        # Without trusting the certificate, node refuses the server: the TLS is really checked.
        assert run({}) == {"error": "DEPTH_ZERO_SELF_SIGNED_CERT"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
