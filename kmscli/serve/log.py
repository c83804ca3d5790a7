"""One line per request on standard error: time, operation, key, status, latency.

Never a secret: what is logged is the operation's name, the key id the request named (or the
response returned), the access key id (an identifier, as AWS's CloudTrail shows it), the HTTP
status and exception name, and timings. Request and response bodies never are. Client-given
text (a key id) is quoted, so it cannot forge a line of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading


class RequestLog:
    def __init__(self, fmt: str = "text", stream=None):
        if fmt not in ("text", "json"):
            raise ValueError(fmt)
        self.fmt = fmt
        self.stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()

    def _write(self, line: str) -> None:
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed stderr must not fail the request

    def request(self, *, operation, key_id, access_key_id, status, error, latency_ms, request_id, remote) -> None:
        when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if self.fmt == "json":
            self._write(
                json.dumps(
                    {
                        "time": when,
                        "operation": operation,
                        "keyId": key_id,
                        "status": status,
                        "error": error,
                        "latencyMs": round(latency_ms, 3),
                        "accessKeyId": access_key_id,
                        "requestId": request_id,
                        "remote": remote,
                    },
                    ensure_ascii=True,
                )
            )
            return
        key = json.dumps(key_id, ensure_ascii=True) if key_id is not None else "-"
        self._write(
            f"{when} {operation} key={key} status={status}"
            + (f" error={error}" if error else "")
            + f" latency={latency_ms:.1f}ms access_key={access_key_id or '-'} request_id={request_id}"
        )

    def event(self, message: str, **fields) -> None:
        """A line about the server itself (listening, stopping)."""
        when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if self.fmt == "json":
            self._write(json.dumps({"time": when, "event": message, **fields}, ensure_ascii=True))
        else:
            extra = "".join(f" {k}={v}" for k, v in fields.items())
            self._write(f"{when} kmscli serve: {message}{extra}")
