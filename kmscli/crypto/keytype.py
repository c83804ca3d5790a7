"""Which signature schemes a loaded public key can verify, for keys that come from outside
the keyring (a PEM whose configuration may be missing)."""

from __future__ import annotations


def fits_scheme(public_key, scheme: str) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if scheme in ("PSS", "PKCS1_V1_5"):
        return isinstance(public_key, rsa.RSAPublicKey)
    if scheme == "ECDSA":
        return isinstance(public_key, ec.EllipticCurvePublicKey)
    if scheme in ("ED25519", "ED25519_PH"):
        return isinstance(public_key, ed25519.Ed25519PublicKey)
    if scheme == "ML_DSA":
        from .asymmetric import mldsa_classes

        return isinstance(public_key, tuple(public for _, public in mldsa_classes().values()))
    return False
