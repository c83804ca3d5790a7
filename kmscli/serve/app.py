"""The application of `kmscli serve`: one request in, one KMS operation, one answer out.

HTTP-agnostic: kmscli/serve/asgi.py reads the request (bounded) and hands over its method,
path, headers and body. Each request is: check its SigV4 signature against the keyring's
access keys, find the operation named by X-Amz-Target in the operations table, decode the
body along botocore's input shape, carry it out through ``operations.invoke`` (the CLI's own
service functions: same validation, limits and errors), encode the result along the output
shape. Every failure, expected or not, becomes AWS's JSON error; nothing a client sends can
raise out of here, and no traceback is ever sent or logged.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Callable

from ..errors import (
    KmsError,
    KMSInternalException,
    UnknownOperationException,
)
from ..service import access_keys, operations
from . import sigv4, wire
from .log import RequestLog

TARGET_PREFIX = "TrentService."
CONTENT_TYPE = "application/x-amz-json-1.1"
# AWS's largest legal KMS request is well under 100 KiB (ImportKeyMaterial of an RSA-4096
# private key, base64, with its import token). 1 MiB is far above it and far below harm.
MAX_BODY = 1 << 20

# AWS answers these with 500 (the server's fault; SDKs retry them); every other KMS error,
# a dry run that would have succeeded included, is 400 (recorded from AWS KMS, and AWS's
# model gives DryRunOperationException no other status).
_SERVER_FAULTS = frozenset({"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException"})
# kmscli's own refusals that have no AWS name: the keyring's trouble is the server's, not the client's.
_AS_INTERNAL = frozenset(
    {
        "KeyringDamagedException",
        "KeyringNotFoundException",
        "FileAccessException",
        "KeyringLockedException",
        "IncorrectPassphraseException",
        "SessionExpiredException",
    }
)
_LOGGED_KEY_MEMBERS = ("KeyId", "SourceKeyId", "DestinationKeyId", "TargetKeyId")


# The client's address rides with the headers under a name no HTTP header can have (a
# space), so that the one dict carries it to the log line.
REMOTE = " remote"


def _request_id() -> str:
    # A random (version 4) UUID's text, as uuid.uuid4() writes it, for a third of its cost.
    h = bytearray(os.urandom(16))
    h[6] = (h[6] & 0x0F) | 0x40
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class KmsApp:
    """``keyring`` is opened and unlocked once by the caller; ``now`` is the clock signatures
    are checked against (tests pass their own through the Python API)."""

    def __init__(self, keyring, *, log: RequestLog, now: Callable[[], dt.datetime] = utc_now):
        self.keyring = keyring
        self.log = log
        self.now = now
        self.region = keyring.region
        self.secret_for = access_keys.SecretLookup(keyring)
        self.signing_keys = sigv4.SigningKeys()
        wire.service_model()  # loaded before the first request, not during it

    def respond(self, method: str, raw_path: str, query: str, headers: dict, body) -> tuple[int, bytes, str]:
        """One request (``headers`` with lower-case names, ``body`` the bytes received, or a
        KmsError the HTTP layer already decided on, e.g. a body over the cap) -> (HTTP status,
        response body, request id). Logs the request's line. Never raises."""
        started = time.perf_counter()
        request_id = _request_id()
        record = {"operation": "-", "keyId": None, "accessKeyId": None}
        try:
            if isinstance(body, KmsError):
                record["operation"] = _target_name(headers.get("x-amz-target", "")) or "-"
                raise body
            status, out = 200, self._handle(method, raw_path, query, headers, body, record)
            record["error"] = None
        except KmsError as e:
            name, message = _public(e)
            if e.name in _AS_INTERNAL and _rotated_since(self.keyring):
                message = (
                    "the keyring's master key was rotated after kmscli serve started, and this "
                    "server holds the old one: restart kmscli serve"
                )
            status = getattr(e, "http_status", None) or (500 if name in _SERVER_FAULTS else 400)
            out = wire.error_body(name, message)
            record["error"] = name
        except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback
            status = 500
            out = wire.error_body("KMSInternalException", "internal error in kmscli serve")
            record["error"] = f"KMSInternalException ({type(e).__name__})"
        self.log.request(
            operation=record["operation"],
            key_id=record["keyId"],
            access_key_id=record["accessKeyId"],
            status=status,
            error=record["error"],
            latency_ms=(time.perf_counter() - started) * 1000,
            request_id=request_id,
            remote=headers.get(REMOTE),
        )
        return status, out, request_id

    def _handle(self, method: str, raw_path: str, query: str, headers: dict, body: bytes, record: dict) -> bytes:
        request = sigv4.Request(method=method, raw_path=raw_path, query=query, headers=headers, body=body)
        name = _target_name(request.headers.get("x-amz-target", ""))
        record["operation"] = name or "-"
        record["accessKeyId"] = sigv4.verify(
            request,
            region=self.region,
            secret_for=self.secret_for,
            now=self.now(),
            signing_keys=self.signing_keys,
        )
        if request.method != "POST":
            raise UnknownOperationException(f"kmscli serve answers POST / only, not {request.method[:10]}")
        if name is None or name not in wire.operation_names():
            raise UnknownOperationException(
                f"X-Amz-Target must be {TARGET_PREFIX}<Operation>, one of AWS KMS's operations"
            )
        operation = operations.operation(name)  # UnsupportedOperationException for one kmscli does not offer
        document = wire.parse_body(body)
        decoded = wire.decode_request(name, document)
        record["keyId"] = _logged_key(decoded)
        result = operations.invoke(self.keyring, operation.name, decoded)
        record["keyId"] = _logged_key(result) or record["keyId"]
        return wire.encode_response(name, result)


def _rotated_since(keyring) -> bool:
    """Whether keyring.toml now names a master key other than the one ``keyring`` holds
    (rotate-master-key ran, or is running, in another process)."""
    from ..keyring import format as fmt
    from ..keyring.fsutil import read_file

    try:
        doc = fmt.parse_toml(read_file(keyring.path / fmt.KEYRING_FILE, limit=64 << 10), fmt.KEYRING_FILE)
    except (KmsError, OSError):
        return False
    table = doc.get("master_key")
    stated = table.get("id") if isinstance(table, dict) else None
    return "next_master_key" in doc or (stated is not None and stated != keyring.master_id)


def _public(error: KmsError) -> tuple[str, str]:
    """The exception name and message a client sees."""
    if error.name in _AS_INTERNAL:
        return "KMSInternalException", f"the keyring could not be used: {error.message}"
    return error.name, error.message if error.wire_message is None else error.wire_message


def _target_name(target: str) -> str | None:
    if not target.startswith(TARGET_PREFIX):
        return None
    name = target[len(TARGET_PREFIX):]
    return name if name.isalnum() and len(name) <= 64 else None


def _logged_key(data: dict) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("KeyMetadata"), dict):
        data = data["KeyMetadata"]  # CreateKey, DescribeKey
    for member in _LOGGED_KEY_MEMBERS:
        value = data.get(member) if isinstance(data, dict) else None
        if isinstance(value, str):
            return value[:300]
    return None
