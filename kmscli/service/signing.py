"""Sign, Verify and GetPublicKey for asymmetric keys."""

from __future__ import annotations

from .. import specs
from ..crypto import asymmetric
from ..errors import (
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)
from ..keyring import Keyring
from .keys import (
    check_algorithm,
    check_usable_state,
    key_metadata,
    material,
    public_key_bytes,
    usable_key,
)
from .request import takes
from .resolve import resolve_key_id


def check_message(algorithm: specs.SigningAlgorithm, message: bytes, message_type: str) -> None:
    """AWS's size rules: RAW 1-4096 bytes, DIGEST exactly the hash length."""
    if message_type not in algorithm.message_types:
        raise ValidationException(
            f"MessageType {message_type} is not valid with {algorithm.name}; "
            f"valid: {', '.join(algorithm.message_types)}"
        )
    if message_type == "RAW" and not 1 <= len(message) <= specs.MESSAGE_MAX:
        raise ValidationException(f"a RAW message must be 1 to {specs.MESSAGE_MAX} bytes")
    if message_type == "DIGEST" and len(message) != algorithm.digest_length:
        raise ValidationException(  # AWS's words (tests/test_aws_recorded.py)
            f"Digest is invalid length for algorithm {algorithm.name}.",
            hint=f"a DIGEST for {algorithm.name} is exactly {algorithm.digest_length} bytes: its SHA digest of the message",
        )
    if message_type == "EXTERNAL_MU" and len(message) != 64:
        raise ValidationException("an EXTERNAL_MU message must be exactly 64 bytes")


def _signing_key(keyring: Keyring, key_id: str, algorithm_name: str, message: bytes, message_type: str, operation: str):
    doc = usable_key(keyring, key_id, specs.SIGN_VERIFY, operation)
    check_algorithm(doc["metadata"], algorithm_name, "SigningAlgorithm")
    algorithm = specs.SIGNING_ALGORITHMS[algorithm_name]
    check_message(algorithm, message, message_type)
    return doc, algorithm


@takes("Sign", "GrantTokens", "DryRun")
def sign(keyring: Keyring, key_id: str, message: bytes, *, signing_algorithm: str, message_type: str = "RAW") -> dict:
    doc, algorithm = _signing_key(keyring, key_id, signing_algorithm, message, message_type, "Sign")
    private = material(keyring, doc)
    try:
        if message_type == "DIGEST":
            signature = asymmetric.sign_digest(private, algorithm, message)
        elif message_type == "RAW":
            signature = asymmetric.sign_raw(private, algorithm, message)
        else:
            signature = asymmetric.sign_mu(private, message)
    except asymmetric.UnsupportedDigestSigning as e:
        raise _unsupported(signing_algorithm, message_type, e) from None
    return {
        "KeyId": keyring.key_arn(doc["metadata"]["KeyId"]),
        "Signature": signature,
        "SigningAlgorithm": signing_algorithm,
    }


@takes("Verify", "GrantTokens", "DryRun")
def verify(
    keyring: Keyring,
    key_id: str,
    message: bytes,
    signature: bytes,
    *,
    signing_algorithm: str,
    message_type: str = "RAW",
) -> dict:
    """SignatureValid true, or KMSInvalidSignatureException (exit status 1)."""
    doc, algorithm = _signing_key(keyring, key_id, signing_algorithm, message, message_type, "Verify")
    check_signature_size(signature)
    public_key = asymmetric.load_public_key(public_key_bytes(doc))
    try:
        # DIGEST and EXTERNAL_MU both hand in what the scheme would otherwise compute itself.
        valid = asymmetric.verify(public_key, algorithm, message, signature, prehashed=message_type != "RAW")
    except asymmetric.UnsupportedDigestSigning as e:
        raise _unsupported(signing_algorithm, message_type, e) from None
    if not valid:
        raise KMSInvalidSignatureException("the signature is not valid for this message and key")
    return {
        "KeyId": keyring.key_arn(doc["metadata"]["KeyId"]),
        "SignatureValid": True,
        "SigningAlgorithm": signing_algorithm,
    }


def _unsupported(algorithm: str, message_type: str, error: Exception) -> UnsupportedOperationException:
    why = str(error) if str(error) and str(error) != algorithm else "not offered by the cryptography library"
    return UnsupportedOperationException(f"{algorithm} with MessageType {message_type}: {why}")


def check_signature_size(signature: bytes) -> None:
    if not 1 <= len(signature) <= specs.SIGNATURE_MAX:
        raise ValidationException(f"Signature must be 1 to {specs.SIGNATURE_MAX} bytes")


@takes("GetPublicKey", "GrantTokens")
def get_public_key(keyring: Keyring, key_id: str) -> dict:
    keyring.master_key  # unlocked first, so that an alias is verified before it is followed
    doc = keyring.load_key(resolve_key_id(keyring, key_id), verify=True)
    meta = doc["metadata"]
    spec = specs.KEY_SPECS[meta["KeySpec"]]
    check_usable_state(keyring, doc)  # as AWS: disabled, pending import or deletion: no public key
    if not spec.asymmetric:
        raise UnsupportedOperationException(
            f"key {meta['KeyId']} is a {meta['KeySpec']} key: it has no public key"
        )
    described = key_metadata(keyring, doc)
    result = {
        "KeyId": described["Arn"],
        "PublicKey": public_key_bytes(doc),
        "CustomerMasterKeySpec": meta["KeySpec"],
        "KeySpec": meta["KeySpec"],
        "KeyUsage": meta["KeyUsage"],
    }
    field = specs.ALGORITHM_FIELD[meta["KeyUsage"]]
    result[field] = described[field]
    return result
