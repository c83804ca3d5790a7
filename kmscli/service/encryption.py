"""Encrypt and Decrypt: SYMMETRIC_DEFAULT blobs and RSAES-OAEP."""

from __future__ import annotations

from .. import crypto, specs
from ..crypto import aead
from ..errors import (
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    NotFoundException,
    ValidationException,
)
from ..keyring import Keyring
from . import ciphertext
from .keys import check_algorithm, material, public_key_bytes, usable_key
from .request import takes
from .resolve import INCORRECT_KEY, check_named_key


def check_context(context: dict | None, meta: dict) -> dict:
    context = dict(context or {})
    for key, value in context.items():
        if not isinstance(key, str) or not isinstance(value, str) or not key:
            raise ValidationException("EncryptionContext must map non-empty strings to strings")
    if context and meta["KeySpec"] != specs.SYMMETRIC_DEFAULT:
        raise ValidationException("EncryptionContext is supported only with symmetric encryption keys")
    return context


def encryption_key(
    keyring: Keyring, key_id: str, algorithm: str, context: dict | None, *, operation: str
) -> tuple[dict, dict]:
    """The ENCRYPT_DECRYPT key ``key_id`` names, once it is known to take ``algorithm`` and
    ``context``: its document, and the context checked. ``operation`` is AWS's name of the
    operation, which AWS's refusal of a key of another usage names."""
    doc = usable_key(keyring, key_id, specs.ENCRYPT_DECRYPT, operation)
    check_algorithm(doc["metadata"], algorithm, "EncryptionAlgorithm")
    return doc, check_context(context, doc["metadata"])


@takes("Encrypt", "GrantTokens", "DryRun")
def encrypt(
    keyring: Keyring,
    key_id: str,
    plaintext: bytes,
    *,
    encryption_context: dict | None = None,
    encryption_algorithm: str = specs.SYMMETRIC_DEFAULT,
) -> dict:
    doc, context = encryption_key(keyring, key_id, encryption_algorithm, encryption_context, operation="Encrypt")
    meta = doc["metadata"]
    if encryption_algorithm == specs.SYMMETRIC_DEFAULT:
        if not 1 <= len(plaintext) <= specs.SYMMETRIC_PLAINTEXT_MAX:
            raise ValidationException(f"Plaintext must be 1 to {specs.SYMMETRIC_PLAINTEXT_MAX} bytes")
        blob = seal_symmetric(keyring, doc, plaintext, context)
    else:
        spec = specs.KEY_SPECS[meta["KeySpec"]]
        limit = specs.rsa_oaep_max_plaintext(spec, encryption_algorithm)
        if not 1 <= len(plaintext) <= limit:
            raise ValidationException(  # AWS's words (tests/test_aws_recorded.py)
                f"Algorithm {encryption_algorithm} and key spec {spec.name} cannot encrypt data larger than {limit} bytes."
            )
        blob = seal_rsa(doc, encryption_algorithm, plaintext)
    return {
        "CiphertextBlob": blob,
        "KeyId": keyring.key_arn(meta["KeyId"]),
        "EncryptionAlgorithm": encryption_algorithm,
    }


def seal_symmetric(keyring: Keyring, doc: dict, plaintext: bytes, context: dict) -> bytes:
    meta = doc["metadata"]
    material_id = meta["CurrentKeyMaterialId"]
    aad = ciphertext.header(meta["KeyId"], material_id) + ciphertext.encode_context(context)
    nonce, sealed = aead.seal(material(keyring, doc), plaintext, aad)
    return ciphertext.pack(meta["KeyId"], material_id, nonce, sealed)


def _decrypt_dry_run(
    keyring: Keyring,
    blob: bytes,
    *,
    key_id: str | None = None,
    encryption_context: dict | None = None,
    encryption_algorithm: str = specs.SYMMETRIC_DEFAULT,
) -> None:
    """A dry run with IGNORE_CIPHERTEXT: only that the key may decrypt, the ciphertext unread
    (beyond the key a symmetric blob names, when no KeyId is given)."""
    if key_id is None:
        try:
            key_id = ciphertext.unpack(blob).key_id
        except InvalidCiphertextException:
            raise ValidationException(
                "a dry run with IGNORE_CIPHERTEXT needs KeyId when the ciphertext names no key"
            ) from None
    doc = decrypting_key(keyring, key_id)
    check_algorithm(doc["metadata"], encryption_algorithm, "EncryptionAlgorithm")
    check_context(encryption_context, doc["metadata"])


@takes("Decrypt", "GrantTokens", "DryRun", "DryRunModifiers", "Recipient", ignore_ciphertext=_decrypt_dry_run)
def decrypt(
    keyring: Keyring,
    blob: bytes,
    *,
    key_id: str | None = None,
    encryption_context: dict | None = None,
    encryption_algorithm: str = specs.SYMMETRIC_DEFAULT,
) -> dict:
    if not 1 <= len(blob) <= specs.CIPHERTEXT_BLOB_MAX:
        raise ValidationException(f"CiphertextBlob must be 1 to {specs.CIPHERTEXT_BLOB_MAX} bytes")
    if key_id is not None:
        # The named key decides which algorithms are valid (RSA keys need RSAES_OAEP_*).
        named = decrypting_key(keyring, key_id)
        check_algorithm(named["metadata"], encryption_algorithm, "EncryptionAlgorithm")
        if encryption_algorithm != specs.SYMMETRIC_DEFAULT:
            return _decrypt_rsa(keyring, named, blob, encryption_algorithm, encryption_context)
    elif encryption_algorithm != specs.SYMMETRIC_DEFAULT:
        raise ValidationException("KeyId is required to decrypt with an asymmetric key")
    try:
        plaintext, meta = open_symmetric(keyring, blob, key_id, encryption_context)
    except InvalidCiphertextException as e:
        if key_id is None:  # it may be an RSA ciphertext, which names no key
            e.hint = f"{e.hint}; an RSA ciphertext also needs --key-id and --encryption-algorithm"
        raise
    return {
        "KeyId": keyring.key_arn(meta["KeyId"]),
        "Plaintext": plaintext,
        "EncryptionAlgorithm": specs.SYMMETRIC_DEFAULT,
        # As AWS, for symmetric keys only: the material that decrypted (the blob names it).
        "KeyMaterialId": ciphertext.unpack(blob).material_id,
    }


def decrypting_key(keyring: Keyring, key_id: str) -> dict:
    """The key a Decrypt request names: one that cannot decrypt at all is, in AWS's answer,
    not a key that can perform this operation (IncorrectKeyException, as for another key)."""
    try:
        return usable_key(keyring, key_id, specs.ENCRYPT_DECRYPT, "Decrypt")
    except InvalidKeyUsageException as e:
        raise IncorrectKeyException(INCORRECT_KEY, hint=e.hint) from None


def open_symmetric(keyring: Keyring, blob: bytes, key_id: str | None, context: dict | None):
    """(plaintext, metadata) of a symmetric blob. Which key the blob names is public; every
    other failure is the same opaque InvalidCiphertextException."""
    parsed = ciphertext.unpack(blob)
    check_named_key(
        keyring, key_id, parsed.key_id, "the ciphertext", hint="omit --key-id: a symmetric ciphertext names its own key"
    )
    try:
        doc = usable_key(keyring, parsed.key_id, specs.ENCRYPT_DECRYPT, "Decrypt")
    except (NotFoundException, InvalidKeyUsageException):
        raise ciphertext.invalid() from None
    meta = doc["metadata"]
    if meta["KeySpec"] != specs.SYMMETRIC_DEFAULT:
        raise ciphertext.invalid()
    context = check_context(context, meta)
    try:
        key = material(keyring, doc, parsed.material_id)
    except LookupError:
        raise ciphertext.invalid() from None
    aad = parsed.header + ciphertext.encode_context(context)
    try:
        return aead.open_(key, parsed.nonce, parsed.sealed, aad), meta
    except crypto.CryptoFailure:
        raise ciphertext.invalid() from None


def _decrypt_rsa(keyring: Keyring, doc: dict, blob: bytes, algorithm: str, context: dict | None) -> dict:
    meta = doc["metadata"]
    check_context(context, meta)
    plaintext = open_rsa(keyring, doc, algorithm, blob)
    return {"KeyId": keyring.key_arn(meta["KeyId"]), "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}


def seal_rsa(doc: dict, algorithm: str, plaintext: bytes) -> bytes:
    """RSAES-OAEP under the key's public key (stored in the clear: no unwrapping needed)."""
    from ..crypto import asymmetric  # RSA keys only: a symmetric encrypt never loads it

    public_key = asymmetric.load_public_key(public_key_bytes(doc))
    return asymmetric.rsa_encrypt(public_key, specs.RSA_ENCRYPTION_HASHES[algorithm], plaintext)


def open_rsa(keyring: Keyring, doc: dict, algorithm: str, blob: bytes) -> bytes:
    """The plaintext of an RSAES-OAEP ciphertext; any failure is the one opaque error."""
    spec = specs.KEY_SPECS[doc["metadata"]["KeySpec"]]
    if len(blob) != spec.size // 8:
        raise ciphertext.invalid()
    from ..crypto import asymmetric  # RSA keys only

    try:
        return asymmetric.rsa_decrypt(material(keyring, doc), specs.RSA_ENCRYPTION_HASHES[algorithm], blob)
    except crypto.CryptoFailure:
        raise ciphertext.invalid() from None
