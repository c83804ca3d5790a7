"""AWS's JSON 1.1 wire form of KMS requests and responses, driven by botocore's service model.

Requests arrive as JSON with blobs in base64 and timestamps in epoch seconds; the service
functions take bytes and datetimes. The operation's input shape (from botocore's KMS model,
the referee of shapes) is walked to decode, and to check types the way AWS's front end does:
a value of the wrong JSON type is a SerializationException, a missing required member a
ValidationException. Value constraints (lengths, ranges, allowed values) are left to the
service functions, which the CLI shares: one set of checks and messages for every door.
Responses are walked along the output shape: bytes to base64, dates to epoch seconds, and
only the members AWS's shape has.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from functools import lru_cache

from ..errors import SerializationException, ValidationException

_MAX_DEPTH = 16  # KMS's deepest shape is 4; a deeper document is refused before any walk


@lru_cache(maxsize=1)
def service_model():
    """botocore's KMS model, loaded once (botocore is imported only by the server)."""
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    return ServiceModel(create_loader().load_service_model("kms", "service-2"), "kms")


def operation_names() -> frozenset[str]:
    return frozenset(service_model().operation_names)


def operation_model(name: str):
    return service_model().operation_model(name)


def _lower_camel(member: str) -> str:
    # AWS names a member in a validation message the way its Java model does: 'keyId'.
    return member[:1].lower() + member[1:]


# --- requests ------------------------------------------------------------------------------


def parse_body(body: bytes) -> dict:
    """The request's JSON object; an empty body is an empty request, as botocore never sends
    one but curl users do."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SerializationException("the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise SerializationException("the request body must be a JSON object")
    return value


def _no_constant(name: str):
    raise ValueError(name)  # NaN and Infinity are not JSON


def decode_request(operation: str, document: dict) -> dict:
    """The request as the service functions take it: AWS's member names, bytes and datetimes.
    Members the model does not know are dropped, as AWS's JSON front end drops them."""
    shape = operation_model(operation).input_shape
    if shape is None:
        return {}
    return _decode_structure(shape, document, "", 0)


def _decode(shape, value, path: str, depth: int):
    if depth > _MAX_DEPTH:
        raise SerializationException("the request is nested too deeply")
    kind = shape.type_name
    if kind == "structure":
        return _decode_structure(shape, value, path, depth)
    if kind == "list":
        if not isinstance(value, list):
            raise _wrong_type(path, "a list")
        return [_decode(shape.member, v, f"{path}.{i + 1}", depth + 1) for i, v in enumerate(value) if v is not None]
    if kind == "map":
        if not isinstance(value, dict):
            raise _wrong_type(path, "a map")
        return {
            _decode(shape.key, k, path, depth + 1): _decode(shape.value, v, f"{path}.{k}", depth + 1)
            for k, v in value.items()
            if v is not None
        }
    if kind == "blob":
        if not isinstance(value, str):
            raise _wrong_type(path, "base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException(f"'{path}' is not valid base64") from None
    if kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _wrong_type(path, "a number of seconds since the epoch")
        try:
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise SerializationException(f"'{path}' is not a valid timestamp") from None
    if kind == "string":
        if not isinstance(value, str):
            raise _wrong_type(path, "a string")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(path, "an integer")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong_type(path, "a boolean")
        return value
    raise SerializationException(f"'{path}' has a type kmscli cannot read")  # double/float: KMS has none


def _decode_structure(shape, value, path: str, depth: int) -> dict:
    if not isinstance(value, dict):
        raise _wrong_type(path, "an object")
    result = {}
    for name, member in shape.members.items():
        if value.get(name) is not None:
            result[name] = _decode(member, value[name], f"{path}.{name}" if path else name, depth + 1)
    missing = [name for name in shape.required_members if name not in result]
    if missing:
        count = len(missing)
        details = "; ".join(f"Value null at '{_lower_camel(n)}' failed to satisfy constraint: Member must not be null" for n in missing)
        raise ValidationException(f"{count} validation error{'s' if count > 1 else ''} detected: {details}")
    return result


def _wrong_type(path: str, expected: str) -> SerializationException:
    return SerializationException(f"'{path or 'the request'}' must be {expected}")


# --- responses ------------------------------------------------------------------------------


def encode_response(operation: str, result: dict) -> bytes:
    shape = operation_model(operation).output_shape
    if shape is None:
        return b"{}"
    return json.dumps(_encode(shape, result), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _encode(shape, value):
    kind = shape.type_name
    if kind == "structure":
        return {
            name: _encode(shape.members[name], v)
            for name, v in value.items()
            if name in shape.members and v is not None
        }
    if kind == "list":
        return [_encode(shape.member, v) for v in value]
    if kind == "map":
        return {k: _encode(shape.value, v) for k, v in value.items()}
    if kind == "blob":
        return base64.b64encode(value).decode("ascii")
    if kind == "timestamp":
        return epoch_seconds(value)
    return value


def epoch_seconds(value) -> int | float:
    """A date as the JSON protocol sends it: seconds since the epoch (whole when it is)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.timestamp()
    return int(value) if float(value).is_integer() else round(float(value), 3)


def error_body(name: str, message: str) -> bytes:
    # No message at all where AWS sends none (an empty one would still be a member).
    body = {"__type": name, "message": message} if message else {"__type": name}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
