"""aws-cli (the ``awscli`` package from PyPI, AWS's own program) against ``kmscli serve`` with
``--endpoint-url``: the everyday commands, as a user types them."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from serve_clients import process_env, served  # noqa: F401


@pytest.fixture(scope="module")
def aws(served):
    env = process_env(
        {
            "AWS_ACCESS_KEY_ID": served.access_key_id,
            "AWS_SECRET_ACCESS_KEY": served.secret_access_key,
            "AWS_DEFAULT_REGION": served.region,
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
        }
    )

    def run(*args, ok=True):
        p = subprocess.run(
            [sys.executable, "-m", "awscli", "kms", *map(str, args), "--endpoint-url", served.endpoint,
             "--output", "json"],
            capture_output=True,
            env=env,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if ok:
            assert p.returncode == 0, p.stderr.decode(errors="replace")
            return json.loads(p.stdout) if p.stdout.strip() else None
        return p

    return run


def test_everyday_commands(aws, served, tmp_path):
    meta = aws("create-key", "--description", "from aws-cli")["KeyMetadata"]
    key = meta["KeyId"]
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT" and meta["Arn"].startswith(f"arn:aws:kms:{served.region}:")
    assert aws("describe-key", "--key-id", key)["KeyMetadata"]["Description"] == "from aws-cli"
    assert key in [k["KeyId"] for k in aws("list-keys")["Keys"]]

    aws("create-alias", "--alias-name", "alias/cli-everyday", "--target-key-id", key)
    aliases = aws("list-aliases")["Aliases"]
    assert {"alias/cli-everyday": key}.items() <= {a["AliasName"]: a.get("TargetKeyId") for a in aliases}.items()

    plaintext = tmp_path / "secret.bin"
    plaintext.write_bytes(bytes(range(256)) * 4)
    out = aws("encrypt", "--key-id", "alias/cli-everyday", "--plaintext", f"fileb://{plaintext}",
              "--encryption-context", "purpose=cli")
    (tmp_path / "ct.bin").write_bytes(base64.b64decode(out["CiphertextBlob"]))
    back = aws("decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'ct.bin'}", "--encryption-context", "purpose=cli")
    assert base64.b64decode(back["Plaintext"]) == plaintext.read_bytes()
    assert back["KeyId"] == meta["Arn"]
    # A wrong context is AWS's error, reported by aws-cli as such.
    p = aws("decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'ct.bin'}", ok=False)
    assert p.returncode != 0 and b"InvalidCiphertextException" in p.stderr

    data_key = aws("generate-data-key", "--key-id", key, "--key-spec", "AES_256")
    assert len(base64.b64decode(data_key["Plaintext"])) == 32
    (tmp_path / "dk.bin").write_bytes(base64.b64decode(data_key["CiphertextBlob"]))
    assert aws("decrypt", "--ciphertext-blob", f"fileb://{tmp_path / 'dk.bin'}")["Plaintext"] == data_key["Plaintext"]


def test_sign_and_verify(aws, tmp_path):
    key = aws("create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    message = tmp_path / "release.tar"
    message.write_bytes(b"release 1.0\n" * 100)
    signed = aws("sign", "--key-id", key, "--message", f"fileb://{message}", "--message-type", "RAW",
                 "--signing-algorithm", "ECDSA_SHA_256")
    signature = tmp_path / "release.sig"
    signature.write_bytes(base64.b64decode(signed["Signature"]))
    verified = aws("verify", "--key-id", key, "--message", f"fileb://{message}", "--message-type", "RAW",
                   "--signature", f"fileb://{signature}", "--signing-algorithm", "ECDSA_SHA_256")
    assert verified["SignatureValid"] is True
    # openssl agrees, with the public key aws-cli fetched.
    public = aws("get-public-key", "--key-id", key)
    (tmp_path / "key.der").write_bytes(base64.b64decode(public["PublicKey"]))
    p = subprocess.run(["openssl", "dgst", "-sha256", "-keyform", "DER", "-verify", tmp_path / "key.der",
                        "-signature", signature, message], capture_output=True, timeout=60)
    assert p.returncode == 0 and b"Verified OK" in p.stdout, p.stderr
    message.write_bytes(b"release 1.1\n")
    p = aws("verify", "--key-id", key, "--message", f"fileb://{message}", "--message-type", "RAW",
            "--signature", f"fileb://{signature}", "--signing-algorithm", "ECDSA_SHA_256", ok=False)
    assert p.returncode != 0 and b"KMSInvalidSignatureException" in p.stderr
