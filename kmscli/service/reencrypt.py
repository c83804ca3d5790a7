"""ReEncrypt: decrypt under one key and encrypt under another, in one call.

The plaintext exists only inside this function; it is never returned, printed or written."""

from __future__ import annotations

from .. import specs
from ..errors import InvalidCiphertextException
from ..keyring import Keyring
from . import ciphertext
from .encryption import decrypt, decrypting_key, encrypt, encryption_key
from .encryption import _decrypt_dry_run
from .request import takes


def _re_encrypt_dry_run(
    keyring: Keyring,
    blob: bytes,
    *,
    destination_key_id: str,
    source_key_id: str | None = None,
    source_encryption_context: dict | None = None,
    destination_encryption_context: dict | None = None,
    source_encryption_algorithm: str = specs.SYMMETRIC_DEFAULT,
    destination_encryption_algorithm: str = specs.SYMMETRIC_DEFAULT,
) -> None:
    """A dry run with IGNORE_CIPHERTEXT: both keys may be used; the ciphertext is not opened."""
    encryption_key(
        keyring, destination_key_id, destination_encryption_algorithm, destination_encryption_context, operation="ReEncrypt"
    )
    _decrypt_dry_run(
        keyring,
        blob,
        key_id=source_key_id,
        encryption_context=source_encryption_context,
        encryption_algorithm=source_encryption_algorithm,
    )


@takes("ReEncrypt", "GrantTokens", "DryRun", "DryRunModifiers", ignore_ciphertext=_re_encrypt_dry_run)
def re_encrypt(
    keyring: Keyring,
    blob: bytes,
    *,
    destination_key_id: str,
    source_key_id: str | None = None,
    source_encryption_context: dict | None = None,
    destination_encryption_context: dict | None = None,
    source_encryption_algorithm: str = specs.SYMMETRIC_DEFAULT,
    destination_encryption_algorithm: str = specs.SYMMETRIC_DEFAULT,
) -> dict:
    # A named source key is checked first, as AWS does (a source key that cannot decrypt is
    # IncorrectKeyException even when the destination is wrong too: recorded from AWS KMS,
    # tests/test_aws_recorded.py); then the destination, before anything is decrypted.
    if source_key_id is not None:
        decrypting_key(keyring, source_key_id)
    destination, _ = encryption_key(
        keyring, destination_key_id, destination_encryption_algorithm, destination_encryption_context, operation="ReEncrypt"
    )
    try:
        opened = decrypt(
            keyring,
            blob,
            key_id=source_key_id,
            encryption_context=source_encryption_context,
            encryption_algorithm=source_encryption_algorithm,
        )
    except InvalidCiphertextException as e:
        # decrypt's hint names --encryption-context; here the context is the source one.
        e.hint = "pass the --source-encryption-context pairs that encrypt was given"
        if source_key_id is None:
            e.hint += "; an RSA ciphertext also needs --source-key-id and --source-encryption-algorithm"
        raise
    sealed = encrypt(
        keyring,
        destination["metadata"]["KeyId"],
        opened["Plaintext"],
        encryption_context=destination_encryption_context,
        encryption_algorithm=destination_encryption_algorithm,
    )
    result = {
        "CiphertextBlob": sealed["CiphertextBlob"],
        "SourceKeyId": opened["KeyId"],
        "KeyId": sealed["KeyId"],
        "SourceEncryptionAlgorithm": opened["EncryptionAlgorithm"],
        "DestinationEncryptionAlgorithm": sealed["EncryptionAlgorithm"],
    }
    # As AWS: each material id only when that side is a symmetric encryption key.
    if "KeyMaterialId" in opened:
        result["SourceKeyMaterialId"] = opened["KeyMaterialId"]
    if destination_encryption_algorithm == specs.SYMMETRIC_DEFAULT:
        result["DestinationKeyMaterialId"] = ciphertext.unpack(sealed["CiphertextBlob"]).material_id
    return result
