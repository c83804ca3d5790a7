"""What the global options set up for every command: the keyring, how to unlock it, how to print."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import KeyringLockedException, KmsError
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

    def open_keyring(self, *, use_session: bool = True) -> Keyring:
        """The keyring, still locked: it asks ``unlock`` only if the command needs a secret.

        ``use_session=False`` insists on the passphrase (unlock, change-passphrase), so that
        a session token can neither extend itself nor replace the passphrase."""
        from .. import service  # noqa: F401 - registers the lifecycle sweep for every writer

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
        if not typed:
            return keyring.master_from_passphrase(secret)
        from ..errors import IncorrectPassphraseException
        from ..keyring.store import WRONG_PASSPHRASE_HINT

        try:
            return keyring.master_from_passphrase(secret)
        except IncorrectPassphraseException as e:
            if e.hint == WRONG_PASSPHRASE_HINT:  # not a more particular one (an interrupted rotation)
                e.hint = "the passphrase typed at the prompt is wrong: run the command again and check the keyboard layout and Caps Lock"
            raise
