"""Helpers shared by the hardening tests: a pristine keyring to copy, and clean-failure checks."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from conftest import PASSPHRASE, make_keyring, run_in_process
from lifecycle_util import snapshot  # noqa: F401 - re-exported for the hardening tests


def clone(src: Path, dst: Path) -> dict:
    """A copy of keyring ``src`` at ``dst`` (modes kept), and the environment that opens it."""
    shutil.copytree(src, dst, symlinks=True)
    return {"KMSCLI_KEYRING": str(dst), "KMSCLI_PASSPHRASE": PASSPHRASE}


def run(env: dict, *args, input: bytes | None = None):
    return run_in_process(list(args), input=input, env=env)


def ok(result) -> dict | bytes:
    assert result.status == 0, result.stderr
    return result.json() if result.stdout.startswith(b"{") else result.stdout


def damaged(result, names=("KeyringDamagedException",)) -> None:
    """Refused as damaged: exit 5, one clean error line of an expected kind, empty stdout."""
    assert result.status == 5, (result.status, result.stdout[:200], result.stderr)
    assert result.stdout == b""
    assert any(result.stderr.startswith(f"kmscli: error: {n}: ") for n in names), result.stderr
    assert "Traceback" not in result.stderr


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Pristine:
    """A keyring with one key of each family, an alias, a ciphertext, a signature and a MAC."""

    def __init__(self, path: Path):
        self.path = path
        env = make_keyring(path)
        self.env = env

        def key(spec, usage=None):
            args = ["create-key", "--key-spec", spec, *(["--key-usage", usage] if usage else [])]
            return ok(run(env, *args))["KeyMetadata"]["KeyId"]

        self.sym = key("SYMMETRIC_DEFAULT")
        self.sym2 = key("SYMMETRIC_DEFAULT")
        self.ecc = key("ECC_NIST_P256", "SIGN_VERIFY")
        self.ecc2 = key("ECC_NIST_P256", "SIGN_VERIFY")
        self.hmac = key("HMAC_256", "GENERATE_VERIFY_MAC")
        ok(run(env, "create-alias", "--alias-name", "alias/main", "--target-key-id", self.sym))
        ok(run(env, "create-alias", "--alias-name", "alias/signer", "--target-key-id", self.ecc))
        self.plaintext = b"the plaintext of the pristine keyring"
        self.blob = ok(run(env, "encrypt", "--key-id", self.sym, "--plaintext", self.plaintext.decode()))[
            "CiphertextBlob"
        ]
        self.message = "release 1.0"
        self.signature = ok(
            run(env, "sign", "--key-id", self.ecc, "--message", self.message, "--signing-algorithm", "ECDSA_SHA_256")
        )["Signature"]
        from lifecycle_util import blob_material_id

        self.blob_material_id = blob_material_id(self.blob)
        self.mac = ok(
            run(env, "generate-mac", "--key-id", self.hmac, "--message", self.message, "--mac-algorithm", "HMAC_SHA_256")
        )["Mac"]

    def key_file(self, path: Path, key_id: str) -> Path:
        return path / "keys" / f"{key_id}.toml"
