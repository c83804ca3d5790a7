"""AWS's front-end checks of a request's values, with AWS's own wording, before any operation.

AWS KMS checks a request against its model's constraints (allowed values, lengths, ranges)
before the operation looks at a key, and answers every failure at once in one message:

    1 validation error detected: Value 'HMAC_random' at 'keySpec' failed to satisfy
    constraint: Member must satisfy enum value set: [...]

(recorded from AWS KMS by LocalStack's KMS tests; tests/test_aws_recorded.py). A value
kmscli does not support but AWS's model allows (SM2, ML_KEM_768, ...) passes here and is
refused by the operation, as AWS would refuse what it cannot do. The sets below are AWS's
model's (botocore's service-2.json; tests/test_aws_recorded.py checks them against it); a
blob's value is never shown, as AWS does not show it.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import ValidationException

# AWS's model's enums, by shape name.
_ENUMS: dict[str, tuple[str, ...]] = {
    "KeyUsageType": ("SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"),
    "CustomerMasterKeySpec": (
        "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
        "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2",
    ),
    "KeySpec": (
        "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
        "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65",
        "ML_DSA_87", "ECC_NIST_EDWARDS25519", "ML_KEM_512", "ML_KEM_768", "ML_KEM_1024",
    ),
    "OriginType": ("AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"),
    "EncryptionAlgorithmSpec": ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"),
    "DataKeySpec": ("AES_256", "AES_128"),
    "DataKeyPairSpec": (
        "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
        "SM2", "ECC_NIST_EDWARDS25519", "ML_KEM_512", "ML_KEM_768", "ML_KEM_1024",
    ),
    "MessageType": ("RAW", "DIGEST", "EXTERNAL_MU"),
    "SigningAlgorithmSpec": (
        "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256",
        "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512", "ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512",
        "SM2DSA", "ML_DSA_SHAKE_256", "ED25519_SHA_512", "ED25519_PH_SHA_512",
    ),
    "MacAlgorithmSpec": ("HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"),
    "KeyAgreementAlgorithmSpec": ("ECDH",),
    "AlgorithmSpec": (
        "RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1",
        "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE",
    ),
    "WrappingKeySpec": ("RSA_2048", "RSA_3072", "RSA_4096", "SM2"),
    "ExpirationModelType": ("KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE"),
    "ImportType": ("NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"),
    "IncludeKeyMaterial": ("ALL_KEY_MATERIAL", "ROTATIONS_ONLY"),
}

# AWS lists an enum's values in its own order, not its model's; where the set has not changed
# since AWS's answer was recorded, the message lists them as AWS did.
_AWS_ORDER: dict[str, tuple[str, ...]] = {
    "MacAlgorithmSpec": ("HMAC_SHA_384", "HMAC_SHA_256", "HMAC_SHA_224", "HMAC_SHA_512"),
}

# Request member -> the enum shape it takes in every operation (KeySpec differs: below).
_ENUM_MEMBERS: dict[str, str] = {
    "KeyUsage": "KeyUsageType",
    "CustomerMasterKeySpec": "CustomerMasterKeySpec",
    "KeySpec": "KeySpec",
    "Origin": "OriginType",
    "EncryptionAlgorithm": "EncryptionAlgorithmSpec",
    "SourceEncryptionAlgorithm": "EncryptionAlgorithmSpec",
    "DestinationEncryptionAlgorithm": "EncryptionAlgorithmSpec",
    "KeyPairSpec": "DataKeyPairSpec",
    "MessageType": "MessageType",
    "SigningAlgorithm": "SigningAlgorithmSpec",
    "MacAlgorithm": "MacAlgorithmSpec",
    "KeyAgreementAlgorithm": "KeyAgreementAlgorithmSpec",
    "WrappingAlgorithm": "AlgorithmSpec",
    "WrappingKeySpec": "WrappingKeySpec",
    "ExpirationModel": "ExpirationModelType",
    "ImportType": "ImportType",
    "IncludeKeyMaterial": "IncludeKeyMaterial",
}
_DATA_KEY_OPERATIONS = ("GenerateDataKey", "GenerateDataKeyWithoutPlaintext")

# Request member -> (min, max): an integer's value, a blob's or a string's length. Each
# member has the same bounds in every operation of AWS's model that takes it.
_RANGES: dict[str, tuple[int, int]] = {
    "NumberOfBytes": (1, 1024),
    "Limit": (1, 1000),
    "PendingWindowInDays": (1, 365),
    "RotationPeriodInDays": (90, 2560),
    "Plaintext": (1, 4096),
    "Message": (1, 4096),
    "CiphertextBlob": (1, 6144),
    "Signature": (1, 6144),
    "Mac": (1, 6144),
    "ImportToken": (1, 6144),
    "EncryptedKeyMaterial": (1, 6144),
    "PublicKey": (1, 8192),
    "Description": (0, 8192),
    "KeyId": (1, 2048),
    "SourceKeyId": (1, 2048),
    "DestinationKeyId": (1, 2048),
    "TargetKeyId": (1, 2048),
    "Marker": (1, 1024),
}
# Members with bounds in AWS's model that are checked elsewhere: KeyMaterialId and KeyMaterialDescription by ImportKeyMaterial itself, in its
# words; Policy, CustomKeyStoreId and XksKeyId are refused as not offered by kmscli.
CHECKED_ELSEWHERE = frozenset(
    {"KeyMaterialId", "KeyMaterialDescription", "Policy", "CustomKeyStoreId", "XksKeyId"}
)
# Request member -> AWS's model's pattern and length for it (AliasNameType: CreateAlias,
# UpdateAlias, DeleteAlias; PolicyNameType: GetKeyPolicy); the length comes first, as in
# AWS's message order. The patterns are Java's (AWS's front end): \w is ASCII.
PATTERNS: dict[str, tuple[str, tuple[int, int]]] = {
    "AliasName": ("^[a-zA-Z0-9:/_-]+$", (1, 256)),
    "PolicyName": ("[\\w]+", (1, 128)),
}
TAG_KEY_LENGTH = (1, 128)
TAG_VALUE_LENGTH = (0, 256)


def enum_shape(operation: str, member: str) -> str | None:
    if member == "KeySpec" and operation in _DATA_KEY_OPERATIONS:
        return "DataKeySpec"
    return _ENUM_MEMBERS.get(member)


def enum_values(shape: str) -> tuple[str, ...]:
    return _ENUMS[shape]


def check_request(
    operation: str, request: Mapping[str, Any], *, missing: Sequence[str] = (), order: Sequence[str] = ()
) -> None:
    """ValidationException, worded as AWS words it, for every value of ``request`` outside
    AWS's model's constraints and every required member ``missing``, all in one message as
    AWS reports them, in the order of the operation's members (``order``); nothing when the
    request is within them."""
    found: list[tuple[str, str]] = [
        (member, f"Value null at '{_lower_camel(member)}' failed to satisfy constraint: Member must not be null")
        for member in missing
    ]
    for member, value in request.items():
        if value is None:
            continue
        shape = enum_shape(operation, member)
        if shape is not None and isinstance(value, str) and value not in _ENUMS[shape]:
            found.append((
                member,
                f"Value '{_shown(value)}' at '{_lower_camel(member)}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(_AWS_ORDER.get(shape, _ENUMS[shape]))}]",
            ))
        elif member in _RANGES:
            found.extend((member, text) for text in _range_failure(member, value, *_RANGES[member]))
        elif member in PATTERNS and isinstance(value, str):
            found.extend((member, text) for text in _pattern_failures(member, value))
        elif member == "Tags" and isinstance(value, (list, tuple)):
            found.extend((member, text) for text in _tag_failures(value))
    position = {member: i for i, member in enumerate(order)}
    failures = [text for _, text in sorted(found, key=lambda f: position.get(f[0], len(position)))]
    if failures:
        count = len(failures)
        raise ValidationException(
            f"{count} validation error{'s' if count > 1 else ''} detected: {'; '.join(failures)}"
        )


def _range_failure(member: str, value, low: int, high: int) -> list[str]:
    at = _lower_camel(member)
    if isinstance(value, bool):
        return []  # a type error, the operation's to report
    if isinstance(value, int):
        if value < low:
            return [f"Value '{value}' at '{at}' failed to satisfy constraint: Member must have value greater than or equal to {low}"]
        if value > high:
            return [f"Value '{value}' at '{at}' failed to satisfy constraint: Member must have value less than or equal to {high}"]
    elif isinstance(value, (bytes, bytearray, str)):  # a blob's value is never shown, a string's is
        shown = f" '{_shown(value)}'" if isinstance(value, str) else ""
        if len(value) < low:
            return [f"Value{shown} at '{at}' failed to satisfy constraint: Member must have length greater than or equal to {low}"]
        if len(value) > high:
            return [f"Value{shown} at '{at}' failed to satisfy constraint: Member must have length less than or equal to {high}"]
    return []


def _pattern_failures(member: str, value: str) -> list[str]:
    """A string outside its model length or pattern, worded as AWS's front end words it
    (moto's suite has AWS's words for an alias name: 'Member must satisfy regular
    expression pattern: ^[a-zA-Z0-9:/_-]+$')."""
    import re

    pattern, length = PATTERNS[member]
    failures = _range_failure(member, value, *length)
    if value and not re.fullmatch(pattern.strip("^$"), value, re.ASCII):
        failures.append(
            f"Value '{_shown(value)}' at '{_lower_camel(member)}' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern}"
        )
    return failures


def _tag_failures(tags) -> list[str]:
    failures = []
    for index, tag in enumerate(tags, 1):
        if not isinstance(tag, Mapping):
            continue
        for member, (low, high) in (("TagKey", TAG_KEY_LENGTH), ("TagValue", TAG_VALUE_LENGTH)):
            value = tag.get(member)
            if isinstance(value, str) and not low <= len(value) <= high:
                bound = f"greater than or equal to {low}" if len(value) < low else f"less than or equal to {high}"
                failures.append(
                    f"Value '{_shown(value)}' at 'tags.{index}.member.{_lower_camel(member)}' failed to satisfy "
                    f"constraint: Member must have length {bound}"
                )
    return failures


def _lower_camel(member: str) -> str:
    return member[:1].lower() + member[1:]


def _shown(text: str) -> str:
    """A client's value, safe to echo in a message: printable (AWS echoes it whole; a tag
    value is at most a few hundred characters once its length is refused)."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 300 else clean[:300] + "..."
