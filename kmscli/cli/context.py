"""What the global options set up for every command: the keyring, how to unlock it, how to print."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import IncorrectPassphraseException, KeyringLockedException, KmsError, ValidationException
from ..keyring import Keyring, default_keyring_path, utc_now


class CliContext:
    # The clock of every keyring a command opens. Only the Python API changes it (the
    # test-only entry point tests/kmscli_at.py does); nothing an installed kmscli reads can.
    clock = staticmethod(utc_now)

    def __init__(self, keyring_path: str | None, passphrase_file: str | None, output: str, query: str | None):
        self.keyring_path = Path(keyring_path) if keyring_path else default_keyring_path()
        self.passphrase_file = passphrase_file
        self.output = output
        self.query = query
        # aws-cli v2's setting: how literal blob inputs are read (kmscli/cli/io.py).
        self.cli_binary_format = "raw-in-base64-out"
        # The endpoint mode (docs/endpoints.md): set by --endpoint-url / KMSCLI_ENDPOINT_URL.
        self.endpoint_url: str | None = None
        self.region: str | None = None
        self.profile: str | None = None
        self.connect_timeout: float | None = None
        self.read_timeout: float | None = None
        self.no_verify_ssl = False
        self.ca_bundle: str | None = None
        self._backend = None

    @property
    def endpoint_mode(self) -> bool:
        return self.endpoint_url is not None

    @property
    def backend(self):
        """What answers this command's KMS operations: the keyring, or the endpoint."""
        if self._backend is None:
            if self.endpoint_mode:
                from ..service.remote import EndpointSettings, RemoteBackend

                verify = False if self.no_verify_ssl else self.ca_bundle
                self._backend = RemoteBackend(
                    EndpointSettings(
                        self.endpoint_url, self.region, self.profile, self.connect_timeout, self.read_timeout, verify
                    )
                )
            else:
                from ..service.backend import LocalBackend

                self._backend = LocalBackend(self.open_keyring)
        return self._backend

    def call(self, operation: str, request: dict, aws: dict | None = None) -> dict:
        """Carry out the AWS operation through the backend. ``aws`` holds the cross-cutting
        members a command took as options (kmscli/cli/members.py), by AWS's member names."""
        if aws:
            request = {**request, **aws}
        return self.backend.call(operation, request)

    def _check_local_options(self) -> None:
        given = [o for o, v in (("--region", self.region), ("--profile", self.profile)) if v is not None]
        if given:
            raise ValidationException(
                f"{given[0]} applies only with --endpoint-url: a local keyring has its own Region and no profiles",
                hint="run against AWS KMS with: --endpoint-url aws " + given[0] + " ...",
            )

    def check_mode(self, command: str) -> None:
        """Before a command runs: the endpoint options fit it (main.py calls this)."""
        from .main import LOCAL_ONLY

        if not self.endpoint_mode:
            self._check_local_options()
        elif command in LOCAL_ONLY:
            raise ValidationException(
                f"{command} works on a local keyring; --endpoint-url sends only KMS operations to an endpoint",
                hint=f"run it without --endpoint-url (and KMSCLI_ENDPOINT_URL unset): kmscli {command} ...",
            )

    def open_keyring(self, *, use_session: bool = True) -> Keyring:
        """The keyring, still locked: it asks ``unlock`` only if the command needs a secret.

        ``use_session=False`` insists on the passphrase (unlock, change-passphrase), so that
        a session token can neither extend itself nor replace the passphrase."""
        from .. import service  # noqa: F401 - registers the lifecycle sweep for every writer

        if self.endpoint_mode:  # no keyring and no passphrase are touched in the endpoint mode
            raise ValidationException(
                f"this command needs a local keyring, and --endpoint-url {self.endpoint_url} is given",
                hint="run it without --endpoint-url (and KMSCLI_ENDPOINT_URL unset)",
            )

        unlocker = self.unlock if use_session else self.unlock_with_passphrase
        return Keyring.open(self.keyring_path, unlocker=unlocker, clock=self.clock)

    def unlock_with_passphrase(self, keyring: Keyring) -> bytes:
        return self.unlock(keyring, use_session=False)

    def unlock(self, keyring: Keyring, *, use_session: bool = True) -> bytes:
        """The master key, from the first source that has it (the contract's order)."""
        from .hardening import no_core_dumps

        no_core_dumps()  # before any secret is read or derived
        session_error: KmsError | None = None
        token = os.environ.get("KMSCLI_SESSION") if use_session else None
        if token:
            from ..keyring import session

            try:
                return session.master_from_session(keyring, token)
            except KmsError as e:  # expired or ended: another source may still unlock
                session_error = e
        from . import passphrase  # not needed by a command that a session unlocked

        secret = None
        if self.passphrase_file:
            secret = passphrase.read_passphrase_file(self.passphrase_file)
        if secret is None:
            secret = passphrase.from_environment("KMSCLI_PASSPHRASE")
        typed = False
        if secret is None:
            secret = passphrase.prompt(f"Passphrase for {keyring.path}")
            typed = secret is not None
        if secret is None:
            if session_error is not None:
                raise session_error
            raise KeyringLockedException(
                "the keyring is locked: no session, passphrase file, KMSCLI_PASSPHRASE or terminal",
                hint='unlock it with: eval "$(kmscli unlock)"  (or set KMSCLI_PASSPHRASE_FILE)',
            )
        try:
            return keyring.master_from_passphrase(secret)
        except IncorrectPassphraseException as e:
            if typed and not e.rotation_interrupted:  # whose hint is more particular than this
                e.hint = "the passphrase typed at the prompt is wrong: run the command again and check the keyboard layout and Caps Lock"
            raise
