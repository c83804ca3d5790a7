"""Every failure a user can see: one class per AWS KMS exception name, each with its exit status.

The core raises these; the CLI turns them into one line on stderr and an exit status in
exactly one place (``kmscli.cli.main``). Messages never contain secrets or key material.
"""

from __future__ import annotations

from typing import Callable


class ExitStatus:
    """The exit statuses of the command-line contract: plain integers (an IntEnum class cost
    every command ~1M instructions of start-up, for names nothing prints)."""

    OK = 0
    NO = 1  # a signature or MAC did not verify
    USAGE = 2  # bad input: malformed value, wrong size, invalid combination
    REFUSED = 3  # the operation was refused (key state, usage, incorrect key, ...)
    LOCKED = 4  # keyring locked, wrong passphrase, session expired
    DAMAGED = 5  # keyring damaged or tampered with, or a file could not be read or written
    ENDPOINT = 6  # a KMS endpoint could not be reached, refused the credentials, or did not serve


class KmsError(Exception):
    """Base of every user-facing error. ``name`` is what the user sees, as AWS names it.

    ``hint`` is the next step to suggest: a string, or a function that finds it when it
    costs something to find (the alias that was probably meant reads every alias bucket).
    A function is called when ``hint`` is first read, which the CLI's error line does; an
    error that is never shown with its hint (`kmscli serve`'s: AWS errors carry none, or
    one the Python API catches) never pays for it."""

    status: int = ExitStatus.REFUSED
    # What a KMS endpoint answers as the message: None for ``message`` itself. AWS answers
    # some failures with no message at all (a signature or MAC that does not verify, a
    # ciphertext that does not open: recorded from AWS KMS, tests/test_aws_recorded.py);
    # kmscli serve does the same, and the CLI still shows its own message.
    wire_message: str | None = None

    def __init__(
        self,
        message: str,
        *,
        hint: str | Callable[[], str | None] | None = None,
        wire_message: str | None = ...,  # type: ignore[assignment]
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if wire_message is not ...:  # given: this failure's own (None: the message itself)
            self.wire_message = wire_message

    @property
    def hint(self) -> str | None:
        if callable(self._hint):
            self._hint = self._hint()
        return self._hint

    @hint.setter
    def hint(self, value: str | Callable[[], str | None] | None) -> None:
        self._hint = value

    @property
    def name(self) -> str:
        return type(self).__name__


# --- 1: the answer is no -------------------------------------------------------------


class KMSInvalidSignatureException(KmsError):
    status = ExitStatus.NO
    wire_message = ""


class KMSInvalidMacException(KmsError):
    status = ExitStatus.NO
    wire_message = ""


# --- 2: bad input ----------------------------------------------------------------------


class ValidationException(KmsError):
    status = ExitStatus.USAGE


class InvalidAliasNameException(KmsError):
    status = ExitStatus.USAGE


class InvalidMarkerException(KmsError):
    status = ExitStatus.USAGE


class TagException(KmsError):
    """AWS's name for a tag it refuses on its own rules (a reserved ``aws:`` key); lengths
    are ValidationException, as AWS's request validation reports them."""

    status = ExitStatus.USAGE


class SerializationException(KmsError):
    """A request body that is not JSON, or a member of the wrong JSON type (`kmscli serve`)."""

    status = ExitStatus.USAGE


class UnknownOperationException(KmsError):
    """An X-Amz-Target that names no KMS operation (`kmscli serve`)."""

    status = ExitStatus.USAGE


# --- 3: refused ------------------------------------------------------------------------


class NotFoundException(KmsError):
    pass


class KeyringNotFoundException(KmsError):
    """No keyring where one was looked for: refused (3), as a key that is not found, not
    "damaged" (5): a script can tell "run init first" from "restore a backup"."""


class DisabledException(KmsError):
    pass


class KMSInvalidStateException(KmsError):
    pass


class InvalidKeyUsageException(KmsError):
    pass


class IncorrectKeyException(KmsError):
    pass


class InvalidCiphertextException(KmsError):
    wire_message = ""


class UnsupportedOperationException(KmsError):
    pass


class LimitExceededException(KmsError):
    pass


class AlreadyExistsException(KmsError):
    pass


class InvalidImportTokenException(KmsError):
    pass


class ExpiredImportTokenException(KmsError):
    pass


class IncorrectKeyMaterialException(KmsError):
    pass


class InvalidGrantTokenException(KmsError):
    pass


class CustomKeyStoreNotFoundException(KmsError):
    """A keyring has no custom key stores: any CustomKeyStoreId names none."""


class DryRunOperationException(KmsError):
    """DryRun: the request would have succeeded (AWS answers a dry run with this error), and
    was not carried out. Exit status 3, as for any operation not carried out; scripts tell it
    by its name, as they do with aws-cli."""


class DependencyTimeoutException(KmsError):
    """The keyring lock could not be taken in time (another process holds it)."""


# The endpoint's refusals of a request's authentication (`kmscli serve`), by AWS's names.


class MissingAuthenticationTokenException(KmsError):
    pass


class IncompleteSignatureException(KmsError):
    pass


class InvalidSignatureException(KmsError):
    pass


class UnrecognizedClientException(KmsError):
    pass


# --- 4: locked -------------------------------------------------------------------------


class KeyringLockedException(KmsError):
    status = ExitStatus.LOCKED


class IncorrectPassphraseException(KmsError):
    status = ExitStatus.LOCKED

    def __init__(self, message: str, *, hint: str | None = None, rotation_interrupted: bool = False):
        super().__init__(message, hint=hint)
        # A master-key rotation was interrupted, perhaps a change of passphrase: the old
        # passphrase, which the user still tries, may no longer open the keyring. The hint
        # says so, and the CLI keeps it rather than its own for a passphrase typed at the
        # prompt. A flag, so that rewording either hint cannot break the choice.
        self.rotation_interrupted = rotation_interrupted


class SessionExpiredException(KmsError):
    status = ExitStatus.LOCKED


# --- 5: damaged or unreadable ----------------------------------------------------------


class KeyringDamagedException(KmsError):
    status = ExitStatus.DAMAGED


class FileAccessException(KmsError):
    """A file the user named (or a keyring file) could not be read or written."""

    status = ExitStatus.DAMAGED


class KMSInternalException(KmsError):
    """A bug in kmscli: shown without a traceback unless --debug."""

    status = ExitStatus.DAMAGED


# --- 6: the endpoint did not serve (--endpoint-url mode) -------------------------------
# Errors the remote answers with keep the remote's own exception name (kmscli/service/remote.py
# gives the ones that mean "the endpoint did not serve" this status); these name what
# happened before any answer came.


class EndpointConnectionException(KmsError):
    """The endpoint could not be reached: refused, unresolvable, timed out, TLS failed."""

    status = ExitStatus.ENDPOINT


class NoCredentialsException(KmsError):
    """AWS's credential chain found no credentials to sign the request with."""

    status = ExitStatus.ENDPOINT
