"""The ASGI side of `kmscli serve`: the request read (bounded), the operation carried out on
the event loop or on a worker thread, the answer sent.

The event loop serves every connection; what runs on it must never wait. Operations that only
read the keyring and compute (Encrypt, Decrypt, Sign, GenerateDataKey, DescribeKey, ...) run
inline: they read small files from the page cache and take no lock, and a hand-off to a
thread would cost more than they do. Every other operation runs on a worker thread: writes
take the keyring's lock (which a CLI command may hold) and fsync, and some generate RSA keys.
(CPU-bound crypto holds the GIL in either place, so a long RSA-4096 signature delays others
as much inline as on a thread; a thread helps only where the work waits.)
"""

from __future__ import annotations

import asyncio

from ..errors import ValidationException
from .app import CONTENT_TYPE, MAX_BODY, REMOTE, KmsApp

# Operations that read the keyring and compute, never write, never wait on the keyring lock.
INLINE = frozenset(
    {
        "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "GenerateRandom", "Sign", "Verify", "GenerateMac", "VerifyMac", "DeriveSharedSecret",
        "DescribeKey", "ListKeys", "ListAliases", "ListResourceTags", "GetPublicKey",
        "GetKeyRotationStatus", "ListKeyRotations", "GetKeyPolicy", "ListKeyPolicies",
    }
)
_TARGET = b"x-amz-target"
_PREFIX = b"TrentService."


def _too_large() -> ValidationException:
    # A ValidationException by its own name: the name is what the client's SDK reads. Its
    # HTTP status rides with it, so that the log line says the 413 the client got.
    error = ValidationException(f"the request body is larger than {MAX_BODY} bytes")
    error.http_status = 413
    return error


class AsgiApp:
    """``app`` answers; ``executor`` runs the operations that may wait."""

    def __init__(self, app: KmsApp, executor):
        self.app = app
        self.executor = executor

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return  # no lifespan, no websockets: the server is configured without them
        headers = {}
        inline = False
        declared = None
        for name, value in scope["headers"]:  # names come lower-cased
            if name == _TARGET:
                inline = value.startswith(_PREFIX) and value[len(_PREFIX):].decode("latin-1") in INLINE
            elif name == b"content-length":
                declared = value
            text = name.decode("latin-1")
            headers[text] = f"{headers[text]},{value.decode('latin-1')}" if text in headers else value.decode("latin-1")
        client = scope.get("client")
        headers[REMOTE] = client[0] if client else None
        body = await _read_body(receive, declared)
        if body is None:
            return  # the client went away (or stalled and was dropped) mid-request
        method, raw_path, query = scope["method"], scope["raw_path"].decode("latin-1"), scope["query_string"].decode("latin-1")
        if inline or isinstance(body, Exception):
            status, out, request_id = self.app.respond(method, raw_path, query, headers, body)
        else:
            loop = asyncio.get_running_loop()
            status, out, request_id = await loop.run_in_executor(
                self.executor, self.app.respond, method, raw_path, query, headers, body
            )
        response_headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(out)).encode()),
            (b"x-amzn-requestid", request_id.encode()),
        ]
        if isinstance(body, ValidationException):  # the body was over the cap
            response_headers.append((b"connection", b"close"))  # the rest of the body is not read
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": out})


async def _read_body(receive, declared: bytes | None):
    """The body; a ValidationException beyond the cap (before reading it when Content-Length says so);
    None when the client is gone."""
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return _too_large()
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > MAX_BODY:
                return _too_large()
            chunks.append(chunk)
        if not message.get("more_body"):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
