"""ECDH key agreement (NIST SP 800-56A), as AWS KMS DeriveSharedSecret does it: the raw
shared secret Z, the x-coordinate of the shared point, with no KDF applied."""

from __future__ import annotations

from . import CryptoFailure
from .asymmetric import load_private_key


def ecdh(private_der: bytes, peer_public_key) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec

    private_key = load_private_key(private_der)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        peer_public_key, ec.EllipticCurvePublicKey
    ):
        raise CryptoFailure()
    try:
        return private_key.exchange(ec.ECDH(), peer_public_key)
    except ValueError:  # a peer key on another curve
        raise CryptoFailure() from None
