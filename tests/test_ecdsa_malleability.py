"""ECDSA signatures are malleable, in kmscli as in AWS KMS and OpenSSL (decided in issue 11,
documented in docs/security.md): for a valid signature (r, s), (r, n - s) is valid too.
kmscli does not enforce low-S in verify: AWS KMS does not produce low-S signatures, so
enforcing it would refuse about half of the genuine ones. A protocol that needs one
signature per message must normalise S itself. This test pins the behaviour, with openssl
as the independent party, so that the documentation stays true."""

from __future__ import annotations

import base64
import subprocess

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from conftest import create_key

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def test_the_high_s_twin_of_an_ecdsa_signature_verifies_here_and_in_openssl(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    r = kms("sign", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256")
    signature = base64.b64decode(r.json()["Signature"])
    r_, s = decode_dss_signature(signature)
    twin = encode_dss_signature(r_, P256_ORDER - s)
    assert twin != signature
    v = kms("verify", "--key-id", key, "--message", "m", "--signing-algorithm", "ECDSA_SHA_256",
            "--signature", base64.b64encode(twin).decode())
    assert v.status == 0 and v.json()["SignatureValid"] is True
    pem = tmp_path / "k.pem"
    assert kms("get-public-key", "--key-id", key, "--out", pem).status == 0
    (tmp_path / "m").write_bytes(b"m")
    (tmp_path / "twin").write_bytes(twin)
    p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pem, "-signature", tmp_path / "twin", tmp_path / "m"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "Verified OK" in p.stdout
