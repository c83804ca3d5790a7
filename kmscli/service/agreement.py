"""DeriveSharedSecret: ECDH between a KEY_AGREEMENT key and a peer's public key."""

from __future__ import annotations

from .. import crypto, specs
from ..crypto import agreement, asymmetric
from ..errors import ValidationException
from ..keyring import Keyring
from .keys import check_algorithm, material, usable_key
from .request import takes


@takes("DeriveSharedSecret", "GrantTokens", "DryRun", "Recipient")
def derive_shared_secret(
    keyring: Keyring, key_id: str, public_key: bytes, *, key_agreement_algorithm: str = "ECDH"
) -> dict:
    """The raw ECDH shared secret (the x-coordinate, no KDF), as AWS returns it.

    ``public_key`` is the peer's SubjectPublicKeyInfo, DER or PEM, on the key's own curve."""
    doc = usable_key(keyring, key_id, specs.KEY_AGREEMENT, "DeriveSharedSecret")
    meta = doc["metadata"]
    check_algorithm(meta, key_agreement_algorithm, "KeyAgreementAlgorithm")
    if not 1 <= len(public_key) <= specs.PEER_PUBLIC_KEY_MAX:
        raise ValidationException(f"PublicKey must be 1 to {specs.PEER_PUBLIC_KEY_MAX} bytes")
    spec = specs.KEY_SPECS[meta["KeySpec"]]
    try:
        peer = asymmetric.load_public_key(public_key)
    except crypto.CryptoFailure:
        raise ValidationException(  # AWS answers it with no message (tests/test_aws_recorded.py)
            "PublicKey is not a DER or PEM SubjectPublicKeyInfo public key", wire_message=""
        ) from None
    if not asymmetric.public_key_matches_spec(peer, spec):
        raise ValidationException(
            f"PublicKey is not an elliptic-curve key on the curve of {spec.name} ({spec.curve}); "
            f"key {meta['KeyId']} can agree only with a {spec.name} public key"
        )
    try:
        secret = agreement.ecdh(material(keyring, doc), peer)
    except crypto.CryptoFailure:
        raise ValidationException(f"PublicKey is not a valid point for {spec.name}") from None
    return {
        "KeyId": keyring.key_arn(meta["KeyId"]),
        "SharedSecret": secret,
        "KeyAgreementAlgorithm": key_agreement_algorithm,
        "KeyOrigin": meta["Origin"],
    }
