"""AES-256-GCM with a random 96-bit nonce, used for every wrap and every symmetric blob."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import CryptoFailure

NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZE = 32


def seal(key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Encrypt; returns (nonce, ciphertext-with-tag).

    Random nonces are safe here: each key seals far fewer than 2**32 messages in the life of
    a local keyring (NIST SP 800-38D §8.3)."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, aad)


def open_(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    if len(nonce) != NONCE_SIZE or len(ciphertext) < TAG_SIZE or len(key) not in (16, 24, 32):
        raise CryptoFailure()
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise CryptoFailure() from None
