"""Regenerate tests/data/sample-v1: a small keyring of format version 1 and what it made.

    /work/main/.venv/bin/python tests/data/make_sample_keyring.py   (from the repository root)

The committed files, not this script, are what test_sample_keyring.py tests: they pin the
on-disk and ciphertext formats, so a change that would strand existing keyrings fails.
Regenerate only when a NEW format version is introduced, and keep the old sample too
(as sample-v1) so that the reader of the old version stays tested.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from kmscli.cli.main import main  # noqa: E402

PASSPHRASE = "kmscli sample keyring passphrase"
LOG2_N = "10"
OUT = HERE / "sample-v1"
KEYS = {
    "symmetric": ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
    "hmac": ("HMAC_256", "GENERATE_VERIFY_MAC"),
    "rsa_encrypt": ("RSA_2048", "ENCRYPT_DECRYPT"),
    "rsa_sign": ("RSA_2048", "SIGN_VERIFY"),
    "ecc_sign": ("ECC_NIST_P256", "SIGN_VERIFY"),
}
PLAINTEXT = "the sample plaintext, pinned"
# Keys sort (by UTF-8 bytes) in another order than values do, and one is not ASCII, so
# the pinned blob also pins how the context is ordered and encoded.
CONTEXT = {"purpose": "format pinning", "a": "zz", "Z": "é"}
MESSAGE = "the sample message, pinned"


def run(*args, stdin: bytes = b"") -> dict:
    out = io.StringIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    with contextlib.redirect_stdout(out):
        status = main([str(a) for a in args])
    if status != 0:
        raise SystemExit(f"kmscli {' '.join(map(str, args))} failed with status {status}")
    return json.loads(out.getvalue())


def main_() -> None:
    ring = OUT / "keyring"
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(mode=0o700)
    os.environ.update(KMSCLI_KEYRING=str(ring), KMSCLI_PASSPHRASE=PASSPHRASE)
    run("init", "--scrypt-log2-n", LOG2_N)
    expected: dict = {"passphrase": PASSPHRASE, "keys": {}}
    for name, (spec, usage) in KEYS.items():
        meta = run("create-key", "--key-spec", spec, "--key-usage", usage, "--description", f"sample {name}",
                   "--tag", "sample=v1")["KeyMetadata"]
        expected["keys"][name] = {k: meta[k] for k in ("KeyId", "KeySpec", "KeyUsage", "CreationDate",
                                                       "CurrentKeyMaterialId", "Description")}
    ids = {name: k["KeyId"] for name, k in expected["keys"].items()}
    context = [a for k, v in CONTEXT.items() for a in ("--encryption-context", f"{k}={v}")]
    expected["symmetric"] = {
        "plaintext": PLAINTEXT,
        "context": CONTEXT,
        "blob": run("encrypt", "--key-id", ids["symmetric"], "--plaintext", PLAINTEXT, *context)["CiphertextBlob"],
    }
    expected["rsa_oaep_sha_256"] = {
        "plaintext": PLAINTEXT,
        "blob": run("encrypt", "--key-id", ids["rsa_encrypt"], "--plaintext", PLAINTEXT,
                    "--encryption-algorithm", "RSAES_OAEP_SHA_256")["CiphertextBlob"],
    }
    expected["message"] = MESSAGE
    expected["mac"] = run("generate-mac", "--key-id", ids["hmac"], "--message", MESSAGE,
                          "--mac-algorithm", "HMAC_SHA_256")["Mac"]
    expected["signatures"] = {
        alg: run("sign", "--key-id", ids[key], "--message", MESSAGE, "--signing-algorithm", alg)["Signature"]
        for key, alg in (("rsa_sign", "RSASSA_PSS_SHA_256"), ("rsa_sign", "RSASSA_PKCS1_V1_5_SHA_256"),
                         ("ecc_sign", "ECDSA_SHA_256"))
    }
    expected["public_keys"] = {
        name: run("get-public-key", "--key-id", ids[name])["PublicKey"] for name in ("rsa_encrypt", "rsa_sign", "ecc_sign")
    }
    (ring / ".lock").unlink(missing_ok=True)  # runtime state, not format
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    base64.b64decode(expected["symmetric"]["blob"])  # sanity: what was written is base64
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main_()
