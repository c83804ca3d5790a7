"""The exported public key file: PEM with the key configuration as text before BEGIN.

RFC 7468 §2 allows explanatory text outside the encapsulation boundaries and OpenSSL skips
it, so ``openssl pkey -pubin -in FILE`` still reads the file, while a reader of the file
alone learns how the key may be used (the configuration AWS says to keep with the key)."""

from __future__ import annotations

import base64
import re

from .. import specs

CONFIG_FIELDS = (
    "KeyId",
    "KeySpec",
    "KeyUsage",
    "EncryptionAlgorithms",
    "SigningAlgorithms",
    "KeyAgreementAlgorithms",
)
_LINE = re.compile(r"^([A-Za-z]+): ?(.*)$")


def to_pem(public_key: dict, *, with_config: bool = True) -> bytes:
    """The PEM text of a GetPublicKey result; ``with_config=False`` gives the bare PEM, for
    readers that refuse text before BEGIN (pycryptodome, python-ecdsa)."""
    lines = []
    for field in CONFIG_FIELDS if with_config else ():
        value = public_key.get(field)
        if field == "KeySpec" and not value:
            value = public_key.get("CustomerMasterKeySpec")  # endpoints that send only AWS's older name
        if value:
            lines.append(f"{field}: {', '.join(value) if isinstance(value, list) else value}")
    body = base64.b64encode(public_key["PublicKey"]).decode("ascii")
    lines.append("-----BEGIN PUBLIC KEY-----")
    lines += [body[i : i + 64] for i in range(0, len(body), 64)]
    lines.append("-----END PUBLIC KEY-----")
    return ("\n".join(lines) + "\n").encode("ascii")


def read_config(pem: bytes) -> dict:
    """The configuration lines of an exported PEM (empty when there are none)."""
    head = pem.split(b"-----BEGIN", 1)[0].decode("utf-8", errors="replace")
    config: dict = {}
    for line in head.splitlines():
        m = _LINE.match(line.strip())
        if m and m.group(1) in CONFIG_FIELDS:
            value = m.group(2).strip()
            if m.group(1).endswith("Algorithms"):
                config[m.group(1)] = [v.strip() for v in value.split(",") if v.strip()]
            else:
                config[m.group(1)] = value
    if config.get("KeySpec") not in specs.KEY_SPECS:
        config.pop("KeySpec", None)
    return config


def public_key_of(pem: bytes, spec: specs.KeySpec | None):
    """The public key of an exported PEM, of the KeySpec its configuration states (``spec``,
    None when it states none), or the ValidationException that says why not."""
    from .. import crypto
    from ..crypto import asymmetric
    from ..errors import ValidationException

    try:
        public_key = asymmetric.load_public_key(pem)
    except crypto.CryptoFailure:
        raise ValidationException("the public key file holds no valid public key") from None
    if spec is not None and not asymmetric.public_key_matches_spec(public_key, spec):
        raise ValidationException(f"the public key in the file is not an {spec.name} key as its KeySpec says")
    return public_key
