"""unlock, lock, change-passphrase."""

from __future__ import annotations

import sys

import click

from ..keyring import session
from ..keyring.format import SCRYPT_LOG2_N_RANGE
from ..service import sessions
from . import passphrase
from .render import emit, emit_shell_export, notice

@click.command()
@click.option(
    "--ttl",
    default="15m",
    show_default=True,
    metavar="DURATION",
    help=f"How long the session lasts: seconds, or with a unit (90s, 15m, 2h); at most {session.TTL_MAX // 3600}h.",
)
@click.pass_obj
def unlock(obj, ttl):
    """Start a session: later commands in this shell need no passphrase.

    Asks for the passphrase (file, KMSCLI_PASSPHRASE or prompt; never an existing session,
    so a session cannot extend itself) and prints a shell line setting KMSCLI_SESSION, for
    eval. The token lives only in that variable; the master key it opens is kept, encrypted
    under it, in your private runtime directory until the session expires or `kmscli lock`.

    \b
    Example:
      eval "$(kmscli unlock --ttl 1h)"
      kmscli encrypt --key-id alias/backups --plaintext hi
      kmscli lock
    """
    seconds = session.parse_ttl(ttl)  # bad input fails before the passphrase is asked
    result = sessions.unlock(obj.open_keyring(use_session=False), seconds)
    # The token is shell-safe by construction ([A-Za-z0-9._-]): no quoting needed.
    emit_shell_export("KMSCLI_SESSION", result["SessionToken"])
    notice(f"session started; it ends at {result['Expires']} or at `kmscli lock`")
    if sys.stdout.isatty():
        # Printed to a terminal, the line sets nothing: the shell must evaluate it.
        notice('hint: to use it, run: eval "$(kmscli unlock)"')

@click.command()
@click.pass_obj
def lock(obj):
    """End every session of the keyring at once. Needs no passphrase.

    Session files are removed and the keyring's session epoch changes, so even a saved copy
    of a session file is refused afterwards.

    \b
    Example:
      kmscli lock && unset KMSCLI_SESSION
    """
    emit(sessions.lock(obj.open_keyring()), output=obj.output, query=obj.query)

@click.command("change-passphrase")
@click.option(
    "--new-passphrase-file",
    metavar="FILE",
    help="Read the new passphrase from the first line of FILE [env KMSCLI_NEW_PASSPHRASE_FILE]; "
    "else KMSCLI_NEW_PASSPHRASE; else a hidden prompt, twice.",
)
@click.option(
    "--scrypt-log2-n",
    type=click.IntRange(*SCRYPT_LOG2_N_RANGE),
    help="A new scrypt cost as log2 N (default: keep the current one).",
)
@click.option(
    "--rotate-master-key",
    is_flag=True,
    help="Replace the master key too, rewrapping every key file (see rotate-master-key): "
    "for a passphrase that may have leaked.",
)
@click.pass_obj
def change_passphrase(obj, new_passphrase_file, scrypt_log2_n, rotate_master_key):
    """Protect the keyring with a new passphrase; the old one stops working at once.

    The current passphrase comes from the usual sources (a session is not enough). Only
    keyring.toml is rewritten, atomically: the master key is re-wrapped and no key file is
    touched. Every session of the keyring ends. An old copy of keyring.toml still opens
    with the old passphrase: when the old passphrase may be known, add --rotate-master-key.

    \b
    Example:
      KMSCLI_PASSPHRASE_FILE=old.txt kmscli change-passphrase --new-passphrase-file new.txt
      KMSCLI_PASSPHRASE_FILE=old.txt kmscli change-passphrase --new-passphrase-file new.txt --rotate-master-key
    """

    def new_secret() -> bytes:
        # Called once the keyring is unlocked: its scrypt parameters are read and checked.
        params = keyring.scrypt_params()
        return passphrase.new_passphrase(
            new_passphrase_file,
            file_env="KMSCLI_NEW_PASSPHRASE_FILE",
            value_env="KMSCLI_NEW_PASSPHRASE",
            what="New passphrase",
            option="--new-passphrase-file",
            cost=(scrypt_log2_n or params.log2_n, params.r),
        )

    keyring = obj.open_keyring(use_session=False)
    result = sessions.change_passphrase(
        keyring, new_secret, scrypt_log2_n=scrypt_log2_n, rotate_master_key=rotate_master_key
    )
    emit(result, output=obj.output, query=obj.query)


@click.command("rotate-master-key")
@click.pass_obj
def rotate_master_key(obj):
    """Replace the keyring's master key with a new random one; keys stay the same.

    Every key file (and every other sealed document) is rewrapped under the new master key,
    atomically as a whole: a crash at any moment leaves a keyring that opens, and the next
    command given the passphrase finishes the rotation. Every session ends. Needs the
    passphrase (a session is not enough). Use it when a copy of the keyring or a session
    file may have leaked (a lost laptop backup): the copy then opens nothing created or
    changed later. It cannot take back key material the copy already holds; for a leaked
    passphrase use change-passphrase --rotate-master-key. See docs/security.md.

    \b
    Example:
      kmscli rotate-master-key
    """
    emit(sessions.rotate_master_key(obj.open_keyring(use_session=False)), output=obj.output, query=obj.query)
