"""HMAC generation and constant-time verification."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature

from .hashing import hash_algorithm


def hmac_sha(hash_name: str, key: bytes, message: bytes) -> bytes:
    from cryptography.hazmat.primitives import hmac

    h = hmac.HMAC(key, hash_algorithm(hash_name))
    h.update(message)
    return h.finalize()


def hmac_verify(hash_name: str, key: bytes, message: bytes, mac: bytes) -> bool:
    """True when ``mac`` matches; the comparison is constant-time (HMAC.verify)."""
    from cryptography.hazmat.primitives import hmac

    h = hmac.HMAC(key, hash_algorithm(hash_name))
    h.update(message)
    try:
        h.verify(mac)
    except InvalidSignature:
        return False
    return True
