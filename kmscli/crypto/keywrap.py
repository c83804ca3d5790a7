"""Unwrapping imported key material exactly as AWS KMS ImportKeyMaterial expects it.

- RSAES_OAEP_SHA_1 / _256: the material itself, RSA-OAEP encrypted under the wrapping
  public key (the OAEP hash and the MGF1 hash are both the named hash; no label).
- RSA_AES_KEY_WRAP_SHA_1 / _256: a fresh AES-256 key RSA-OAEP encrypted as above (exactly
  the modulus length), followed by the material wrapped under that AES key with AES key
  wrap with padding (RFC 5649). This is what `openssl enc -id-aes256-wrap-pad` produces.

Every failure is the one opaque CryptoFailure: which step failed is nobody's business.
"""

from __future__ import annotations

from . import CryptoFailure
from .asymmetric import load_private_key, rsa_decrypt


def unwrap(wrapping_private_der: bytes, hash_name: str, two_phase: bool, blob: bytes) -> bytes:
    if not two_phase:
        return rsa_decrypt(wrapping_private_der, hash_name, blob)
    from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

    modulus_bytes = (load_private_key(wrapping_private_der).key_size + 7) // 8
    if len(blob) <= modulus_bytes:
        raise CryptoFailure()
    aes_key = rsa_decrypt(wrapping_private_der, hash_name, blob[:modulus_bytes])
    if len(aes_key) != 32:
        raise CryptoFailure()
    try:
        return aes_key_unwrap_with_padding(aes_key, blob[modulus_bytes:])
    except (InvalidUnwrap, ValueError):
        raise CryptoFailure() from None
