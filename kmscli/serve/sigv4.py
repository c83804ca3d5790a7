"""Checking AWS Signature Version 4 on a request, as AWS's front end does.

The canonical request is built from what arrived (method, raw path, query, the headers the
client says it signed, and the SHA-256 of the body actually received) following AWS's
specification, the same steps botocore.auth.SigV4Auth takes to sign. The signing key is
derived from the access key's secret with HMAC-SHA256 (the standard library's), and the
signature compared in constant time. Refusals carry AWS's exception names and messages.

Checks beyond AWS's: X-Amz-Target must be signed (so a captured request cannot be replayed
as another operation within the five minutes a signature lives); every SDK signs it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping
from urllib.parse import quote, unquote

from ..errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
SERVICE = "kms"
MAX_SKEW = dt.timedelta(minutes=5)  # AWS's: a signature is valid 5 minutes either side of now
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_MAX_SIGNED_HEADERS = 64

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check "
    "your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
UNRECOGNIZED = "The security token included in the request is invalid."


@dataclass(frozen=True)
class Request:
    method: str
    raw_path: str  # as sent, percent-encoding and all, without the query
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> Authorization:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm[:40]}'; kmscli serve accepts {ALGORITHM}"
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value.strip()
    missing = [n for n in ("Credential", "Signature", "SignedHeaders") if not fields.get(n)]
    if missing:
        raise IncompleteSignatureException(
            " ".join(f"Authorization header requires '{n}' parameter." for n in missing)
        )
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or not all(scope):
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term"
        )
    signed = tuple(fields["SignedHeaders"].split(";"))
    if len(signed) > _MAX_SIGNED_HEADERS or not all(signed) or list(signed) != sorted(set(signed)):
        raise IncompleteSignatureException("SignedHeaders must be the lower-case header names, sorted, joined by ';'")
    return Authorization(*scope, signed_headers=signed, signature=fields["Signature"])


def request_time(headers: Mapping[str, str]) -> tuple[dt.datetime, str]:
    """The signing time: X-Amz-Date, else Date; and its text for the string to sign."""
    text = headers.get("x-amz-date")
    if text is not None:
        try:
            when = _basic_format(text) or dt.datetime.strptime(text, _AMZ_DATE).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{text[:40]}'."
            ) from None
        return when, text
    text = headers.get("date")
    if text is None:
        raise IncompleteSignatureException(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None or when.tzinfo is None:
        raise IncompleteSignatureException(f"Date must be an RFC 1123 date. Got '{text[:40]}'.")
    when = when.astimezone(dt.timezone.utc)
    return when, when.strftime(_AMZ_DATE)


def _basic_format(text: str) -> dt.datetime | None:
    """YYYYMMDDTHHMMSSZ, as every SDK writes it, read without strptime (a tenth of its cost,
    on every request); None for any other text, which strptime then judges as before."""
    if len(text) == 16 and text[8] == "T" and text[15] == "Z" and (text[:8] + text[9:15]).isdigit() and text.isascii():
        return dt.datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]), int(text[13:15]),
            tzinfo=dt.timezone.utc,
        )  # ValueError for a day or hour out of range, as strptime's
    return None


def check_scope(auth: Authorization, region: str, amz_date: str) -> None:
    if auth.date != amz_date[:8]:
        raise InvalidSignatureException(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{auth.date[:8]}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    if auth.region != region:
        raise InvalidSignatureException(
            f"Credential should be scoped to a valid region, not '{auth.region[:40]}'. This endpoint's region is '{region}'."
        )
    if auth.service != SERVICE:
        raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SERVICE}'. ")
    if auth.terminator != TERMINATOR:
        raise InvalidSignatureException(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{auth.terminator[:40]}'."
        )


def check_time(when: dt.datetime, amz_date: str, now: dt.datetime) -> None:
    if now - MAX_SKEW <= when <= now + MAX_SKEW:
        return
    now_text = now.strftime(_AMZ_DATE)
    if when < now - MAX_SKEW:
        raise InvalidSignatureException(
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - MAX_SKEW).strftime(_AMZ_DATE)} ({now_text} - 5 min.)"
        )
    if when > now + MAX_SKEW:
        raise InvalidSignatureException(
            f"Signature not yet current: {amz_date} is still later than "
            f"{(now + MAX_SKEW).strftime(_AMZ_DATE)} ({now_text} + 5 min.)"
        )


def check_signed_headers(auth: Authorization, headers: Mapping[str, str]) -> None:
    # AWS's rules: Host must be signed, and so must the date header the signature relies on.
    if "host" not in auth.signed_headers:
        raise InvalidSignatureException("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    if "x-amz-date" in headers and "x-amz-date" not in auth.signed_headers:
        raise InvalidSignatureException("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
    if "x-amz-date" not in headers and "date" not in auth.signed_headers:
        raise InvalidSignatureException("'Date' must be a 'SignedHeader' in the AWS Authorization.")
    if "x-amz-target" not in auth.signed_headers:
        raise InvalidSignatureException("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")


def canonical_uri(raw_path: str) -> str:
    # As botocore: dot segments and empty segments removed, then percent-encoded once more.
    if raw_path == "/":
        return "/"  # every SDK's request to KMS: what the steps below would make of it
    segments: list[str] = []
    for segment in (raw_path or "/").split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    trailing = "/" if raw_path.endswith("/") and segments else ""
    return quote("/" + "/".join(segments) + trailing, safe="/~")


def canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(request: Request, auth: Authorization, payload_hash: str) -> str:
    lines = [request.method, canonical_uri(request.raw_path), canonical_query(request.query)]
    for name in auth.signed_headers:
        value = request.headers.get(name, "")
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join([*lines, "", ";".join(auth.signed_headers), payload_hash])


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: bytes, auth: Authorization) -> bytes:
    """The key of the credential scope: four HMACs from the secret, as AWS derives it."""
    key = b"AWS4" + secret
    for part in (auth.date, auth.region, auth.service, auth.terminator):
        key = _hmac(key, part)
    return key


def signature(key: bytes, auth: Authorization, amz_date: str, canonical: str) -> str:
    """The request's signature under the scope's signing key (``signing_key``)."""
    scope = "/".join((auth.date, auth.region, auth.service, auth.terminator))
    to_sign = "\n".join((ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


class SigningKeys:
    """The derived signing keys of the last few (secret, date, region) scopes. A scope's key
    changes once a day per access key (AWS's own front end keeps them the same way), so a
    server derives it once, not four HMACs per request. Keyed by the secret itself, so a
    deleted or replaced access key can never reach a key derived from its old secret."""

    KEPT = 64

    def __init__(self):
        self._keys: dict[tuple, bytes] = {}

    def __call__(self, secret: bytes, auth: Authorization) -> bytes:
        scope = (secret, auth.date, auth.region, auth.service, auth.terminator)
        key = self._keys.get(scope)
        if key is None:
            key = signing_key(secret, auth)
            if len(self._keys) >= self.KEPT:
                self._keys.clear()  # atomic: threads need no lock
            self._keys[scope] = key
        return key


def verify(
    request: Request,
    *,
    region: str,
    secret_for: Callable[[str], bytes | None],
    now: dt.datetime,
    signing_keys: SigningKeys | None = None,
) -> str:
    """The access key id that signed ``request``; AWS's exception when it is not properly signed."""
    header = request.headers.get("authorization")
    if not header:
        if "X-Amz-Algorithm=" in request.query or "X-Amz-Signature=" in request.query:
            raise IncompleteSignatureException("kmscli serve accepts signatures in the Authorization header only")
        raise MissingAuthenticationTokenException("Missing Authentication Token")
    auth = parse_authorization(header)
    when, amz_date = request_time(request.headers)
    check_signed_headers(auth, request.headers)
    check_scope(auth, region, amz_date)
    check_time(when, amz_date, now)
    if "x-amz-security-token" in request.headers:
        # kmscli issues no temporary credentials: a session token is one it never made.
        raise UnrecognizedClientException(UNRECOGNIZED)
    secret = secret_for(auth.access_key_id)
    if secret is None:
        raise UnrecognizedClientException(UNRECOGNIZED)
    body_hash = hashlib.sha256(request.body).hexdigest()
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is not None and not hmac.compare_digest(claimed.encode(), body_hash.encode()):
        raise InvalidSignatureException(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    key = (signing_keys or signing_key)(secret, auth)
    expected = signature(key, auth, amz_date, canonical_request(request, auth, body_hash))
    if not hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("utf-8", "replace")):
        raise InvalidSignatureException(MISMATCH)
    return auth.access_key_id
