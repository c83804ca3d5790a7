"""Ed25519ph (RFC 8032 §5.1, phflag 1, empty context) through libsodium, via PyNaCl.

The cryptography library offers only pure Ed25519; libsodium's crypto_sign_ed25519ph_*
functions are the RFC's Ed25519ph, so nothing here is hand-rolled: this module only moves
bytes between the two libraries. PyNaCl is imported lazily, and its absence becomes
``Ed25519phUnavailable`` so that the service can refuse with a clear message instead of
crashing.

Ed25519ph hashes its input with SHA-512 before signing. AWS KMS's ED25519_PH_SHA_512 with
MessageType DIGEST passes the caller's 64-byte digest in as that input, so the caller's
message ends up hashed twice: signature = Ed25519ph(key, SHA-512(message)).
"""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm

from . import CryptoFailure


class Ed25519phUnavailable(Exception):
    """PyNaCl (libsodium) is not installed, so Ed25519ph cannot be computed."""


def _bindings():
    try:
        from nacl import bindings
    except ImportError:
        raise Ed25519phUnavailable() from None
    return bindings


def _seed(private_key) -> bytes:
    try:
        return private_key.private_bytes_raw()
    except (AttributeError, UnsupportedAlgorithm):
        raise CryptoFailure() from None


def sign(private_key, data: bytes) -> bytes:
    """Ed25519ph(private_key, data): libsodium hashes ``data`` with SHA-512 and signs that."""
    nacl = _bindings()
    _public, secret = nacl.crypto_sign_seed_keypair(_seed(private_key))
    state = nacl.crypto_sign_ed25519ph_state()
    nacl.crypto_sign_ed25519ph_update(state, data)
    return nacl.crypto_sign_ed25519ph_final_create(state, secret)


def verify(public_raw: bytes, data: bytes, signature: bytes) -> bool:
    nacl = _bindings()
    from nacl.exceptions import BadSignatureError, ValueError as NaclValueError

    if len(signature) != 64 or len(public_raw) != 32:
        return False
    state = nacl.crypto_sign_ed25519ph_state()
    nacl.crypto_sign_ed25519ph_update(state, data)
    try:
        return bool(nacl.crypto_sign_ed25519ph_final_verify(state, signature, public_raw))
    except (BadSignatureError, NaclValueError):
        return False
