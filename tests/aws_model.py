"""AWS's KMS service model (botocore's service-2.json), the referee of shapes, members and errors."""

from __future__ import annotations

import base64
import datetime as dt

import botocore.session
from botocore import xform_name

MODEL = botocore.session.get_session().get_service_model("kms")

# Errors any operation may answer that the model lists for none: ValidationException is AWS's
# common error for a request its validation refuses (every AWS JSON service has it), and the
# others are the local keyring's own (locked, damaged, a file unreadable): no AWS operation
# meets them, so no AWS script tests for them.
COMMON_ERRORS = {
    "ValidationException",
    "KeyringLockedException",
    "IncorrectPassphraseException",
    "SessionExpiredException",
    "KeyringDamagedException",
    "KeyringNotFoundException",
    "FileAccessException",
    "KMSInternalException",
    "DependencyTimeoutException",
}


def operation_of(command: str):
    """The AWS operation a kmscli command is, or None (kmscli's own commands)."""
    for name in MODEL.operation_names:
        if xform_name(name, "-") == command:
            return MODEL.operation_model(name)
    return None


def option_of(member: str) -> str:
    return "--" + xform_name(member, "-")


def check_shape(shape, value, path="$"):
    """Raise AssertionError unless ``value`` (as kmscli prints it in JSON) fits ``shape``:
    no member the shape lacks, required members present, types and enum values right."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: not an object"
        extra = set(value) - set(shape.members)
        assert not extra, f"{path}: members the model lacks: {sorted(extra)}"
        missing = set(shape.required_members) - set(value)
        assert not missing, f"{path}: required members missing: {sorted(missing)}"
        for name, item in value.items():
            check_shape(shape.members[name], item, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: not a list"
        for i, item in enumerate(value):
            check_shape(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: not a map"
        for k, v in value.items():
            check_shape(shape.key, k, f"{path} key")
            check_shape(shape.value, v, f"{path}.{k}")
    elif kind == "string":
        assert isinstance(value, str), f"{path}: not a string"
        if shape.enum:
            assert value in shape.enum, f"{path}: {value!r} is not one of {shape.enum}"
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None:
            assert len(value) >= low, f"{path}: shorter than {low}"
        if high is not None:
            assert len(value) <= high, f"{path}: longer than {high}"
    elif kind == "blob":
        assert isinstance(value, str), f"{path}: a blob prints as base64 text"
        base64.b64decode(value, validate=True)
    elif kind == "timestamp":
        assert isinstance(value, (str, int, float)), f"{path}: not a timestamp"
        if isinstance(value, str):
            dt.datetime.fromisoformat(value)
    elif kind == "boolean":
        assert isinstance(value, bool), f"{path}: not a boolean"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: not an integer"
    else:  # pragma: no cover - the KMS model has no other kinds
        raise AssertionError(f"{path}: unexpected shape type {kind}")


def check_output(command: str, printed: dict) -> None:
    op = operation_of(command)
    assert op is not None, command
    if op.output_shape is None:
        assert printed in ({}, None), printed
        return
    check_shape(op.output_shape, printed)
    meta = printed.get("KeyMetadata") if isinstance(printed, dict) else None
    if meta and "CustomerMasterKeySpec" in meta:  # AWS: the deprecated synonym, equal
        assert meta["CustomerMasterKeySpec"] == meta["KeySpec"]
    if command == "get-public-key" and "CustomerMasterKeySpec" in printed:
        assert printed["CustomerMasterKeySpec"] == printed["KeySpec"]
