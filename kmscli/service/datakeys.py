"""GenerateDataKey, GenerateDataKeyPair (and their WithoutPlaintext forms), GenerateRandom.

Data keys are encrypted under a symmetric encryption KMS key exactly as Encrypt would
encrypt them (seal_symmetric), so `decrypt` opens the CiphertextBlob with no special case.
As in AWS, only SYMMETRIC_DEFAULT keys can protect data keys."""

from __future__ import annotations

import os

from .. import specs
from ..errors import InvalidKeyUsageException, UnsupportedOperationException, ValidationException
from ..keyring import Keyring
from .encryption import check_context, seal_symmetric
from .keys import usable_key
from .request import takes


def data_key_size(key_spec: str | None, number_of_bytes: int | None) -> int:
    """The size AWS's GenerateDataKey asks for: exactly one of KeySpec and NumberOfBytes."""
    if (key_spec is None) == (number_of_bytes is None):
        raise ValidationException("give exactly one of KeySpec (AES_128, AES_256) and NumberOfBytes")
    if key_spec is not None:
        if key_spec not in specs.DATA_KEY_SPECS:
            raise ValidationException(
                f"KeySpec {key_spec!r} is not valid; valid: {', '.join(specs.DATA_KEY_SPECS)}"
            )
        return specs.DATA_KEY_SPECS[key_spec]
    return _number_of_bytes(number_of_bytes, specs.DATA_KEY_BYTES_MAX)


def _number_of_bytes(n: int, high: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= high:
        raise ValidationException(f"NumberOfBytes must be between 1 and {high}")
    return n


def _protecting_key(keyring: Keyring, key_id: str, operation: str) -> dict:
    doc = usable_key(keyring, key_id, specs.ENCRYPT_DECRYPT, operation)
    if doc["metadata"]["KeySpec"] != specs.SYMMETRIC_DEFAULT:
        raise InvalidKeyUsageException(
            f"{operation} needs a symmetric encryption key; key {doc['metadata']['KeyId']} "
            f"is {doc['metadata']['KeySpec']}"
        )
    return doc


@takes("GenerateDataKey", "GrantTokens", "DryRun", "Recipient")
def generate_data_key(
    keyring: Keyring,
    key_id: str,
    *,
    key_spec: str | None = None,
    number_of_bytes: int | None = None,
    encryption_context: dict | None = None,
    with_plaintext: bool = True,
) -> dict:
    size = data_key_size(key_spec, number_of_bytes)  # bad input fails before any key is read
    doc = _protecting_key(keyring, key_id, "GenerateDataKey")
    context = check_context(encryption_context, doc["metadata"])
    plaintext = os.urandom(size)
    result = {"CiphertextBlob": seal_symmetric(keyring, doc, plaintext, context)}
    if with_plaintext:
        result["Plaintext"] = plaintext
    result["KeyId"] = keyring.key_arn(doc["metadata"]["KeyId"])
    result["KeyMaterialId"] = doc["metadata"]["CurrentKeyMaterialId"]  # what seal_symmetric used
    return result


def data_key_pair_spec(name: str) -> specs.KeySpec:
    if name not in specs.DATA_KEY_PAIR_SPECS:
        raise ValidationException(
            f"KeyPairSpec {name!r} is not valid; valid: {', '.join(specs.DATA_KEY_PAIR_SPECS)}"
        )
    spec = specs.KEY_SPECS[name]
    if spec.unsupported:
        raise UnsupportedOperationException(f"KeyPairSpec {name} is not supported: {spec.unsupported}")
    return spec


@takes("GenerateDataKeyPair", "GrantTokens", "DryRun", "Recipient", refusal=UnsupportedOperationException)
def generate_data_key_pair(
    keyring: Keyring,
    key_id: str,
    *,
    key_pair_spec: str,
    encryption_context: dict | None = None,
    with_plaintext: bool = True,
) -> dict:
    """A new key pair: the private key as PKCS #8 DER (plain, and encrypted under the KMS
    key), the public key as DER SubjectPublicKeyInfo."""
    from ..crypto import asymmetric  # only data key pairs pay for the asymmetric modules

    spec = data_key_pair_spec(key_pair_spec)
    doc = _protecting_key(keyring, key_id, "GenerateDataKeyPair")
    context = check_context(encryption_context, doc["metadata"])
    private_der = asymmetric.generate_private_key(spec)
    result = {
        "PrivateKeyCiphertextBlob": seal_symmetric(keyring, doc, private_der, context),
    }
    if with_plaintext:
        result["PrivateKeyPlaintext"] = private_der
    result["PublicKey"] = asymmetric.public_key_der(private_der)
    result["KeyId"] = keyring.key_arn(doc["metadata"]["KeyId"])
    result["KeyPairSpec"] = spec.name
    result["KeyMaterialId"] = doc["metadata"]["CurrentKeyMaterialId"]  # what seal_symmetric used
    return result


@takes("GenerateRandom", "CustomKeyStoreId", "Recipient", refusal=UnsupportedOperationException)
def generate_random(number_of_bytes: int | None = None) -> dict:
    """GenerateRandom: bytes from the operating system's CSPRNG, the source every kmscli key
    comes from. It needs no keyring and no passphrase: there is no secret to protect."""
    if number_of_bytes is None:  # optional in AWS's model; AWS's service insists, in these words
        raise ValidationException("NumberOfBytes is required.")
    return {"Plaintext": os.urandom(_number_of_bytes(number_of_bytes, specs.RANDOM_BYTES_MAX))}
