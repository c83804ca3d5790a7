"""The one table of AWS KMS operations that kmscli carries out.

Each entry names an operation as AWS does (``Encrypt``), the service function that carries it
out, and how the members of AWS's request map onto that function's keyword arguments. Every
door into kmscli is a thin translation over this table: ``kmscli serve`` turns a JSON 1.1
request into a request dict and calls :func:`invoke`; the CLI and the endpoint mode build the
same request dict. Validation, limits and exception names live in the service functions, once.

Requests and responses are plain data shaped like AWS's API: blobs are ``bytes``, timestamps
are what the service functions return, members are AWS's PascalCase names. Members that are
absent or ``None`` are not passed, so the service function's default applies, as AWS's does.
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from ..errors import UnsupportedOperationException, ValidationException


_SNAKE: dict[str, str] = {}  # bounded: only the table's member names reach it


def snake_case(member: str) -> str:
    """``EncryptionContext`` -> ``encryption_context``: how service arguments are named.
    (String operations, not re.sub: every command builds its options with it at start-up;
    remembered, since kmscli serve names every member of every request with it.)"""
    name = _SNAKE.get(member)
    if name is None:
        name = _SNAKE[member] = "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(member))
    return name


# A plain class with slots: a dataclass (import and generated methods, ~1 ms) or even a named
# tuple (its class is generated from source, ~0.7M instructions) cost every command start-up
# time (the CLI reads this table to build its options).
class Operation:
    __slots__ = ("name", "target", "members", "renamed", "fixed", "uses_keyring")

    def __init__(self, name, target, members, renamed, fixed, uses_keyring):
        self.name = name  # AWS's name, as in X-Amz-Target: TrentService.<name>
        self.target = target  # "module:function" under kmscli.service
        self.members = members  # tuple[str, ...], the request members the function takes
        self.renamed = renamed  # Mapping[str, str], member -> argument, where not snake_case
        self.fixed = fixed  # Mapping[str, Any], arguments this operation always passes
        self.uses_keyring = uses_keyring  # bool

    def __repr__(self) -> str:
        return f"Operation({self.name!r}, {self.target!r})"

    def argument(self, member: str) -> str:
        return self.renamed.get(member, snake_case(member))

    def function(self):
        module, name = self.target.split(":")
        return getattr(importlib.import_module(f"kmscli.service.{module}"), name)

    def arguments(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments for ``request``; a member this operation does not take is
        refused by name rather than silently dropped."""
        kwargs = dict(self.fixed)
        for member, value in request.items():
            if value is None:
                continue
            if member not in self.members:
                raise ValidationException(f"{self.name} does not take the member {member!r} in kmscli")
            kwargs[self.argument(member)] = value
        return kwargs


def _op(name: str, target: str, *members: str, renamed=None, fixed=None, uses_keyring=True) -> Operation:
    return Operation(name, target, members, dict(renamed or {}), dict(fixed or {}), uses_keyring)


_KEY = ("KeyId",)
_PAGE = ("Limit", "Marker")
# Members that cut across operations (kmscli/service/request.py says how each is honoured).
_GRANTS = ("GrantTokens",)
_DRY = ("GrantTokens", "DryRun")

# Every member of each operation's input shape in AWS's model is taken (tests check it
# against botocore's model): a request AWS accepts never fails here for a member unknown.
OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        # Keys
        _op("CreateKey", "keys:create_key", "Policy", "Description", "KeyUsage", "CustomerMasterKeySpec",
            "KeySpec", "Origin", "CustomKeyStoreId", "BypassPolicyLockoutSafetyCheck", "Tags", "MultiRegion",
            "XksKeyId", renamed={"KeySpec": "key_spec_name"}),
        _op("DescribeKey", "keys:describe_key", *_KEY, *_GRANTS),
        _op("ListKeys", "keys:list_keys", *_PAGE, "ResourceOwners"),
        _op("UpdateKeyDescription", "metadata:update_key_description", *_KEY, "Description"),
        # Key state
        _op("EnableKey", "state:enable_key", *_KEY),
        _op("DisableKey", "state:disable_key", *_KEY),
        _op("ScheduleKeyDeletion", "state:schedule_key_deletion", *_KEY, "PendingWindowInDays"),
        _op("CancelKeyDeletion", "state:cancel_key_deletion", *_KEY),
        # Encryption
        _op("Encrypt", "encryption:encrypt", *_KEY, "Plaintext", "EncryptionContext", "EncryptionAlgorithm", *_DRY),
        _op("Decrypt", "encryption:decrypt", "CiphertextBlob", *_KEY, "EncryptionContext", "EncryptionAlgorithm",
            *_DRY, "DryRunModifiers", "Recipient", renamed={"CiphertextBlob": "blob"}),
        _op("ReEncrypt", "reencrypt:re_encrypt", "CiphertextBlob", "SourceKeyId", "DestinationKeyId",
            "SourceEncryptionContext", "DestinationEncryptionContext", "SourceEncryptionAlgorithm",
            "DestinationEncryptionAlgorithm", *_DRY, "DryRunModifiers", renamed={"CiphertextBlob": "blob"}),
        # Data keys and randomness
        _op("GenerateDataKey", "datakeys:generate_data_key", *_KEY, "KeySpec", "NumberOfBytes",
            "EncryptionContext", *_DRY, "Recipient"),
        _op("GenerateDataKeyWithoutPlaintext", "datakeys:generate_data_key", *_KEY, "KeySpec", "NumberOfBytes",
            "EncryptionContext", *_DRY, fixed={"with_plaintext": False}),
        _op("GenerateDataKeyPair", "datakeys:generate_data_key_pair", *_KEY, "KeyPairSpec", "EncryptionContext",
            *_DRY, "Recipient"),
        _op("GenerateDataKeyPairWithoutPlaintext", "datakeys:generate_data_key_pair", *_KEY, "KeyPairSpec",
            "EncryptionContext", *_DRY, fixed={"with_plaintext": False}),
        _op("GenerateRandom", "datakeys:generate_random", "NumberOfBytes", "CustomKeyStoreId", "Recipient",
            uses_keyring=False),
        # Signatures, MACs, key agreement
        _op("Sign", "signing:sign", *_KEY, "Message", "MessageType", "SigningAlgorithm", *_DRY),
        _op("Verify", "signing:verify", *_KEY, "Message", "MessageType", "Signature", "SigningAlgorithm", *_DRY),
        _op("GetPublicKey", "signing:get_public_key", *_KEY, *_GRANTS),
        _op("GenerateMac", "mac:generate_mac", *_KEY, "Message", "MacAlgorithm", *_DRY),
        _op("VerifyMac", "mac:verify_mac", *_KEY, "Message", "Mac", "MacAlgorithm", *_DRY),
        _op("DeriveSharedSecret", "agreement:derive_shared_secret", *_KEY, "KeyAgreementAlgorithm", "PublicKey",
            *_DRY, "Recipient"),
        # Aliases
        _op("CreateAlias", "aliases:create_alias", "AliasName", "TargetKeyId"),
        _op("UpdateAlias", "aliases:update_alias", "AliasName", "TargetKeyId"),
        _op("DeleteAlias", "aliases:delete_alias", "AliasName"),
        _op("ListAliases", "aliases:list_aliases", *_KEY, *_PAGE),
        # Tags
        _op("TagResource", "tags:tag_resource", *_KEY, "Tags"),
        _op("UntagResource", "tags:untag_resource", *_KEY, "TagKeys"),
        _op("ListResourceTags", "tags:list_resource_tags", *_KEY, *_PAGE),
        # Key policies (read-only: kmscli/service/policy.py)
        _op("GetKeyPolicy", "policy:get_key_policy", *_KEY, "PolicyName"),
        _op("ListKeyPolicies", "policy:list_key_policies", *_KEY, *_PAGE),
        # Rotation
        _op("EnableKeyRotation", "rotation:enable_key_rotation", *_KEY, "RotationPeriodInDays"),
        _op("DisableKeyRotation", "rotation:disable_key_rotation", *_KEY),
        _op("GetKeyRotationStatus", "rotation:get_key_rotation_status", *_KEY),
        _op("RotateKeyOnDemand", "rotation:rotate_key_on_demand", *_KEY),
        _op("ListKeyRotations", "rotation:list_key_rotations", *_KEY, "IncludeKeyMaterial", *_PAGE),
        # Import of key material
        _op("GetParametersForImport", "importing:get_parameters_for_import", *_KEY, "WrappingAlgorithm",
            "WrappingKeySpec"),
        _op("ImportKeyMaterial", "importing:import_key_material", *_KEY, "ImportToken", "EncryptedKeyMaterial",
            "ValidTo", "ExpirationModel", "ImportType", "KeyMaterialDescription", "KeyMaterialId"),
        _op("DeleteImportedKeyMaterial", "importing:delete_imported_key_material", *_KEY, "KeyMaterialId"),
    )
}


def operation(name: str) -> Operation:
    """The operation AWS calls ``name``; one kmscli does not offer is UnsupportedOperation."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise UnsupportedOperationException(f"kmscli does not offer the KMS operation {name}") from None


def invoke(keyring, name: str, request: Mapping[str, Any] | None = None) -> dict:
    """Carry out the operation ``name`` with AWS's ``request`` on ``keyring``; AWS's response."""
    op = operation(name)
    kwargs = op.arguments(request or {})
    function = op.function()
    missing = [member for member in _needed_members(op, function) if op.argument(member) not in kwargs]
    from .constraints import check_request  # AWS checks values first, before any key is looked at

    check_request(op.name, request or {}, missing=missing, order=op.members)
    return function(keyring, **kwargs) if op.uses_keyring else function(**kwargs)


_NEEDED: dict[str, tuple[str, ...]] = {}


def _needed_members(op: Operation, function) -> tuple[str, ...]:
    """The request members without which the service function cannot be called. AWS's model
    marks some of them optional (Decrypt's CiphertextBlob, GenerateRandom's NumberOfBytes)
    where the service refuses their absence; the CLI always passes them, a request may not."""
    if op.name not in _NEEDED:
        import inspect

        by_argument = {op.argument(member): member for member in op.members}
        _NEEDED[op.name] = tuple(
            by_argument[p.name]
            for p in inspect.signature(function).parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.name in by_argument
            and p.name not in op.fixed
        )
    return _NEEDED[op.name]
