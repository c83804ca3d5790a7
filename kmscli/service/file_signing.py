"""Signing and verifying messages of any size, and verifying with an exported public key alone.

AWS KMS takes a RAW message of at most 4096 bytes. A larger message is hashed here as a
stream and its digest signed as is (what MessageType DIGEST does), which for the
hash-then-sign schemes (RSASSA-PSS, RSASSA-PKCS1-v1_5, ECDSA) is exactly the signature over
the whole message: `openssl dgst -sign` / `-verify` agree. ED25519_PH_SHA_512 signs a
SHA-512 digest too (what AWS's MessageType DIGEST takes), so a file of any size is hashed here
and its digest signed. Ed25519 (pure) and ML-DSA sign the message itself, not a digest, so
they keep the 4096-byte limit.
"""

from __future__ import annotations

from typing import BinaryIO

from .. import specs
from ..crypto import asymmetric, keytype
from ..crypto.hashing import digest_stream
from ..errors import (
    InvalidKeyUsageException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)

from .signing import check_message, check_signature_size

STREAMABLE_SCHEMES = ("PSS", "PKCS1_V1_5", "ECDSA", "ED25519_PH")


def check_streamable(algorithm: specs.SigningAlgorithm) -> None:
    if algorithm.scheme not in STREAMABLE_SCHEMES:
        raise ValidationException(
            f"a message larger than {specs.MESSAGE_MAX} bytes is signed as its digest, which "
            f"{algorithm.name} cannot do: it signs the whole message (at most {specs.MESSAGE_MAX} bytes)",
            hint=_LARGE_FILE_HINT.get(algorithm.scheme, "use an RSASSA_* or ECDSA_* key for large files"),
        )


_LARGE_FILE_HINT = {
    "ED25519": "sign it with --signing-algorithm ED25519_PH_SHA_512, which signs its SHA-512 digest",
    "ML_DSA": "sign a checksum file instead (sha256sum FILE > FILE.sha256), or use an RSASSA_* or ECDSA_* key",
}


def _streamed_fields(algorithm: specs.SigningAlgorithm, digest: bytes) -> dict:
    # kmscli's own fields saying how the message was signed: as its digest, hashed here.
    # Only when asked (``detail``): by default a result has exactly AWS's Sign/Verify shape.
    return {"MessageType": "DIGEST", "MessageDigest": digest, "MessageDigestAlgorithm": algorithm.hash}


def sign_stream(backend, key_id: str, source: BinaryIO, *, signing_algorithm: str, detail: bool = False) -> dict:
    """Sign a message of any size, read from ``source``, as its streamed digest: hashed
    here, the digest signed by the backend (Sign, MessageType DIGEST), so a KMS endpoint
    never sees the file. ``detail`` adds how (MessageType DIGEST, the digest and its hash):
    fields AWS's Sign has not."""
    algorithm = _streamable(signing_algorithm)
    digest = digest_stream(algorithm.hash, source)
    answer = backend.call(
        "Sign", {"KeyId": key_id, "Message": digest, "MessageType": "DIGEST", "SigningAlgorithm": signing_algorithm}
    )
    return {
        "KeyId": answer.get("KeyId"),
        "Signature": answer["Signature"],
        "SigningAlgorithm": answer.get("SigningAlgorithm", signing_algorithm),
        **(_streamed_fields(algorithm, digest) if detail else {}),
    }


def verify_stream(
    backend, key_id: str, source: BinaryIO, signature: bytes, *, signing_algorithm: str, detail: bool = False
) -> dict:
    """Verify a signature over a message of any size; KMSInvalidSignatureException if not
    valid. Hashed here, the digest verified by the backend (Verify, MessageType DIGEST)."""
    algorithm = _streamable(signing_algorithm)
    check_signature_size(signature)
    digest = digest_stream(algorithm.hash, source)
    answer = backend.call(
        "Verify",
        {"KeyId": key_id, "Message": digest, "MessageType": "DIGEST", "Signature": signature,
         "SigningAlgorithm": signing_algorithm},
    )
    if not answer.get("SignatureValid"):  # AWS answers an invalid signature with an error
        raise KMSInvalidSignatureException("the signature is not valid for this message and key")
    return _verified(answer.get("KeyId"), algorithm, digest if detail else None)


def _streamable(signing_algorithm: str) -> specs.SigningAlgorithm:
    algorithm = specs.SIGNING_ALGORITHMS.get(signing_algorithm)
    if algorithm is None:
        raise ValidationException(f"SigningAlgorithm {signing_algorithm!r} is not valid")
    check_streamable(algorithm)
    return algorithm


def _check(public_key, algorithm, data: bytes, signature: bytes, *, prehashed: bool) -> None:
    try:
        valid = asymmetric.verify(public_key, algorithm, data, signature, prehashed=prehashed)
    except asymmetric.UnsupportedDigestSigning as e:  # Ed25519ph without PyNaCl
        raise UnsupportedOperationException(f"{algorithm.name}: {e}") from None
    if not valid:
        raise KMSInvalidSignatureException("the signature is not valid for this message and key")


def _verified(key_id: str | None, algorithm: specs.SigningAlgorithm, digest: bytes | None) -> dict:
    result = {"KeyId": key_id, "SignatureValid": True, "SigningAlgorithm": algorithm.name}
    if key_id is None:
        del result["KeyId"]
    if digest is not None:
        result.update(_streamed_fields(algorithm, digest))
    return result


# --- offline: an exported public key, no keyring ---------------------------------------------


def offline_key(pem: bytes, signing_algorithm: str | None):
    """(public key, algorithm, KeyId or None) from a public key file: the algorithm is the
    one given, else the only one the file's configuration lists."""
    from .pem import public_key_of, read_config

    config = read_config(pem)
    usage = config.get("KeyUsage")
    if usage is not None and usage != specs.SIGN_VERIFY:
        raise InvalidKeyUsageException(f"the public key file says KeyUsage {usage}; verify needs SIGN_VERIFY")
    listed = config.get("SigningAlgorithms")
    if signing_algorithm is None:
        if listed and len(listed) == 1:
            signing_algorithm = listed[0]
        elif listed:
            raise ValidationException(
                f"the public key file lists several SigningAlgorithms: {', '.join(listed)}",
                hint="choose one with --signing-algorithm",
            )
        else:
            raise ValidationException(
                "the public key file names no SigningAlgorithms", hint="give --signing-algorithm"
            )
    if listed and signing_algorithm not in listed:
        raise InvalidKeyUsageException(
            f"the key does not support SigningAlgorithm {signing_algorithm}; valid: {', '.join(listed)}"
        )
    algorithm = specs.SIGNING_ALGORITHMS.get(signing_algorithm)
    if algorithm is None:
        raise ValidationException(f"SigningAlgorithm {signing_algorithm!r} is not valid")
    public_key = public_key_of(pem, specs.KEY_SPECS.get(config.get("KeySpec", "")))
    if not keytype.fits_scheme(public_key, algorithm.scheme):
        raise InvalidKeyUsageException(f"the public key in the file cannot verify {algorithm.name} signatures")
    return public_key, algorithm, config.get("KeyId")


def verify_offline(
    pem: bytes, message: bytes, signature: bytes, *, signing_algorithm: str | None = None, message_type: str = "RAW"
) -> dict:
    """Verify with the public key file alone (no keyring, no passphrase)."""
    public_key, algorithm, _claimed_key_id = offline_key(pem, signing_algorithm)
    check_message(algorithm, message, message_type)
    check_signature_size(signature)
    # DIGEST and EXTERNAL_MU both hand in what the scheme would otherwise compute itself.
    _check(public_key, algorithm, message, signature, prehashed=message_type != "RAW")
    return _verified(None, algorithm, None)  # no KeyId: see verify_offline_stream


def verify_offline_stream(
    pem: bytes, source: BinaryIO, signature: bytes, *, signing_algorithm: str | None = None, detail: bool = False
) -> dict:
    """Verify over a message of any size with the public key file alone."""
    public_key, algorithm, _claimed_key_id = offline_key(pem, signing_algorithm)
    check_streamable(algorithm)
    check_signature_size(signature)
    digest = digest_stream(algorithm.hash, source)
    _check(public_key, algorithm, digest, signature, prehashed=True)
    # An offline result has no KeyId: what was checked is the public key in the file, and
    # the KeyId line before BEGIN is text anyone can write (issue 11). Reported as if it
    # were established, a planted PEM could name any key of the user's; AWS's Verify shape
    # has no place for a claim beside it, so the claim is left out.
    return _verified(None, algorithm, digest if detail else None)
