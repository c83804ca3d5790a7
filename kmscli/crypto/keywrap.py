"""Unwrapping imported key material exactly as AWS KMS ImportKeyMaterial expects it.

- RSAES_OAEP_SHA_1 / _256: the material itself, RSA-OAEP encrypted under the wrapping
  public key (the OAEP hash and the MGF1 hash are both the named hash; no label).
- RSA_AES_KEY_WRAP_SHA_1 / _256: a fresh AES-256 key RSA-OAEP encrypted as above (exactly
  the modulus length), followed by the material wrapped under that AES key with AES key
  wrap with padding (RFC 5649). This is what `openssl enc -id-aes256-wrap-pad` produces.

Every failure is the one opaque CryptoFailure: which step failed is nobody's business. One
exception, PiecewiseWrap: `openssl enc -id-aes256-wrap-pad` (the tool AWS's documentation
uses) wraps its input in separate 4096-byte pieces, so material over 4096 bytes (an ML-DSA
"both" PKCS #8) comes out as several wraps end to end. Saying so names the user's own tool,
not a secret, and the next step is one they could not otherwise guess.
"""

from __future__ import annotations

from . import CryptoFailure
from .asymmetric import load_private_key, rsa_decrypt

OPENSSL_ENC_PIECE = 4096  # the input block of `openssl enc`, wrapped on its own (+8 bytes)


class PiecewiseWrap(CryptoFailure):
    """The material was wrapped as several RFC 5649 wraps of 4096-byte pieces."""


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
    wrapped = blob[modulus_bytes:]
    try:
        return aes_key_unwrap_with_padding(aes_key, wrapped)
    except (InvalidUnwrap, ValueError):
        pass
    if len(wrapped) > OPENSSL_ENC_PIECE + 8:
        try:
            aes_key_unwrap_with_padding(aes_key, wrapped[: OPENSSL_ENC_PIECE + 8])
        except (InvalidUnwrap, ValueError):
            pass
        else:
            raise PiecewiseWrap()
    raise CryptoFailure()
