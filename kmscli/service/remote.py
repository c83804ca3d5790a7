"""The endpoint mode: KMS operations sent to AWS KMS or any KMS endpoint, through botocore.

botocore is AWS's own client library, the one aws-cli is built on: with it the Region,
profile, credential chain (environment, shared config and credentials files, SSO, instance
roles), AWS_ENDPOINT_URL_KMS, retries and CA bundle are resolved exactly as aws-cli resolves
them. It is imported here only, when a command runs in this mode.

Requests and responses have the shape the local backend's have (kmscli/service/backend.py):
AWS's member names, bytes for blobs. Dates come back as the ISO 8601 text the keyring's own
answers carry, so the renderer sees one kind of result whichever backend answered.

Every failure becomes a kmscli error here, so the CLI prints it as it prints the local ones:
the remote's exception name and message, and the exit status the same name has locally; the
endpoint not serving (unreachable, credentials refused, throttled or failing after botocore's
retries) is exit status 6 (docs/endpoints.md).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any, Mapping

from .. import errors
from ..errors import (
    EndpointConnectionException,
    ExitStatus,
    KmsError,
    NoCredentialsException,
    ValidationException,
)

# --endpoint-url aws: AWS KMS itself, in the resolved Region, at the endpoint botocore
# resolves (AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL or the profile's endpoint_url when set).
AWS = "aws"

# Remote answers that mean the endpoint refused the caller's credentials (AWS's names for a
# signature or access key it does not accept, as IAM and KMS send them): exit status 6.
CREDENTIALS_REFUSED = frozenset({
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "ExpiredToken",
    "AuthFailure",
})
# Remote answers that mean the endpoint did not serve the request, even after botocore's
# retries: throttling and the service's own failures. Exit status 6 as well: the request
# may well succeed later, and nothing about it was wrong.
NOT_SERVED = frozenset({
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "KMSInternalException",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "DependencyTimeoutException",
})


@dataclass(frozen=True)
class EndpointSettings:
    endpoint_url: str  # a URL, or AWS
    region: str | None = None
    profile: str | None = None
    connect_timeout: float | None = None  # aws-cli's --cli-connect-timeout (0: none)
    read_timeout: float | None = None  # aws-cli's --cli-read-timeout (0: none)
    verify: bool | str | None = None  # False: --no-verify-ssl; a path: --ca-bundle

    @property
    def shown(self) -> str:
        return "AWS KMS" if self.endpoint_url == AWS else self.endpoint_url


class RemoteBackend:
    """Answers KMS operations by sending them to an endpoint. The client is made on the
    first request, so a command refused for bad input never reads credentials."""

    def __init__(self, settings: EndpointSettings):
        self.settings = settings
        self.endpoint = settings.shown
        self._client = None

    def call(self, name: str, request: Mapping[str, Any] | None = None) -> dict:
        from botocore import xform_name

        client = self.client()
        members = {k: v for k, v in (request or {}).items() if v is not None}
        try:
            response = getattr(client, xform_name(name))(**members)
        except Exception as e:  # noqa: BLE001 - every botocore failure is mapped, the rest re-raised
            raise self._error(e) from None
        response.pop("ResponseMetadata", None)
        # AWS KMS answers a signature or MAC that does not verify with an error; some
        # endpoints (moto) answer false instead. Either way the answer is no (exit status 1).
        if response.get("SignatureValid") is False:
            raise errors.KMSInvalidSignatureException(f"{self.endpoint} answered that the signature is not valid")
        if response.get("MacValid") is False:
            raise errors.KMSInvalidMacException(f"{self.endpoint} answered that the MAC is not valid")
        return _local_dates(response)

    def aliases_of(self, key_id: str) -> list[str]:
        page = self.call("ListAliases", {"KeyId": key_id})
        return sorted(a["AliasName"] for a in page.get("Aliases", []))

    def key_details(self, key_ids: list[str]) -> dict[str, dict]:
        from .backend import details_through_calls

        return details_through_calls(self, key_ids)

    # --- the client -------------------------------------------------------------------

    def client(self):
        if self._client is None:
            try:
                self._client = self._new_client()
            except KmsError:
                raise
            except Exception as e:  # noqa: BLE001
                raise self._error(e) from None
        return self._client

    def _new_client(self):
        import botocore.session
        from botocore.config import Config

        s = self.settings
        session = botocore.session.Session(profile=s.profile)
        session.user_agent_name = "kmscli"
        # AWS_REGION as aws-cli v2 and the SDKs read it (botocore alone reads AWS_DEFAULT_REGION).
        region = s.region or os.environ.get("AWS_REGION") or session.get_config_variable("region")
        if not region:
            raise ValidationException(
                f"no Region for {s.shown}",
                hint="give --region (kmscli serve prints its Region), or set AWS_REGION or a profile's region",
            )
        config = {"retries": _retries(session)}
        if s.connect_timeout is not None:
            config["connect_timeout"] = s.connect_timeout or None
        if s.read_timeout is not None:
            config["read_timeout"] = s.read_timeout or None
        return session.create_client(
            "kms",
            region_name=region,
            endpoint_url=None if s.endpoint_url == AWS else s.endpoint_url,
            verify=s.verify,
            config=Config(**config),
        )

    # --- errors -------------------------------------------------------------------------

    def _error(self, e: Exception) -> Exception:
        from botocore import exceptions as bx

        where = self.settings.shown
        if isinstance(e, bx.ClientError):
            return remote_error(e.response, where)
        if isinstance(e, (bx.NoCredentialsError, bx.PartialCredentialsError, bx.CredentialRetrievalError)):
            return NoCredentialsException(
                f"no AWS credentials to sign requests to {where}: {e}",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile "
                "(for kmscli serve: kmscli create-access-key on its keyring)",
            )
        if isinstance(e, (bx.ConnectionError, bx.HTTPClientError)):
            return EndpointConnectionException(
                f"cannot reach {where}: {e}",
                hint="check --endpoint-url and that the endpoint is running (see docs/endpoints.md)",
            )
        if isinstance(e, bx.ParamValidationError):
            return ValidationException(" ".join(str(e).split()))
        if isinstance(e, (bx.ProfileNotFound, bx.NoRegionError, bx.InvalidRegionError, bx.InvalidConfigError,
                          bx.ConfigParseError, bx.InvalidEndpointConfigurationError)):
            return ValidationException(str(e))
        if isinstance(e, bx.BotoCoreError):  # an answer botocore could not read, and the like
            error = _named(type(e).__name__, str(e))
            error.status = ExitStatus.ENDPOINT
            return error
        return e


# AWS answers these with no message (recorded from AWS KMS: tests/test_aws_recorded.py); the
# CLI says what kmscli says for the same failure on a keyring.
_UNWORDED = {
    "KMSInvalidSignatureException": "the signature is not valid for this message and key",
    "KMSInvalidMacException": "the MAC is not valid for this message and key",
    "InvalidCiphertextException": "the ciphertext, its encryption context, or its key is not valid",
}


def remote_error(response: Mapping[str, Any], where: str) -> KmsError:
    """The remote's exception, by its own name and message, with the local exit status of
    that name (3 for a name kmscli does not know), or 6 where the endpoint did not serve."""
    body = response.get("Error", {}) or {}
    name = str(body.get("Code") or "UnknownError")
    message = str(body.get("Message") or body.get("message") or "")
    http_status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
    error = _named(name, message or _UNWORDED.get(name) or f"{where} answered HTTP {http_status}")
    if name in CREDENTIALS_REFUSED:
        error.status = ExitStatus.ENDPOINT
        error.hint = f"check the credentials for {where} (--profile, AWS_ACCESS_KEY_ID)"
    elif name in NOT_SERVED or http_status >= 500:
        error.status = ExitStatus.ENDPOINT
        error.hint = "try again later; botocore already retried (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE set how often)"
    return error


def _named(name: str, message: str) -> KmsError:
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, KmsError)) or not name.isidentifier():
        cls = type(name if name.isidentifier() else "UnknownError", (KmsError,), {})
    return cls(message)


def _retries(session) -> dict:
    """aws-cli v2's retries: its standard mode unless the user chose one (AWS_RETRY_MODE or
    retry_mode in the profile); AWS_MAX_ATTEMPTS or max_attempts when set."""
    scoped = session.get_scoped_config()
    mode = os.environ.get("AWS_RETRY_MODE") or scoped.get("retry_mode") or "standard"
    retries: dict[str, Any] = {"mode": mode}
    attempts = os.environ.get("AWS_MAX_ATTEMPTS") or scoped.get("max_attempts")
    if attempts:
        try:
            retries["total_max_attempts"] = int(attempts)
        except ValueError:
            raise ValidationException(f"max_attempts must be a whole number, not {attempts!r}") from None
    return retries


def _local_dates(value):
    """Dates as the keyring's answers carry them: ISO 8601 in UTC, to the second."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat()
    if isinstance(value, dict):
        return {k: _local_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_local_dates(v) for v in value]
    return value
