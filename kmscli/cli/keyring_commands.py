"""init: create a keyring."""

from __future__ import annotations

import click

from ..keyring import Keyring
from ..keyring.format import SCRYPT_DEFAULT, SCRYPT_LOG2_N_RANGE, max_log2_n
from . import passphrase
from .render import emit


@click.command()
@click.option("--region", default="local", show_default=True, help="Region written into key ARNs.")
@click.option(
    "--account-id", default="000000000000", show_default=True, help="Account id written into key ARNs."
)
@click.option(
    "--scrypt-log2-n",
    type=click.IntRange(SCRYPT_LOG2_N_RANGE[0], max_log2_n(SCRYPT_DEFAULT["r"])),
    default=SCRYPT_DEFAULT["log2_n"],
    show_default=True,
    help="scrypt cost as log2 N (memory 128*8*2^N bytes). Lower it only for tests and throwaway keyrings.",
)
@click.pass_obj
def init(obj, region, account_id, scrypt_log2_n):
    """Create a keyring protected by a new passphrase.

    The passphrase comes from --passphrase-file, KMSCLI_PASSPHRASE, or is asked twice on a
    terminal. A random 256-bit master key is wrapped under a key derived from it with scrypt.

    \b
    Example:
      kmscli --keyring ~/keys init
    """
    # Refused before a new passphrase is asked for (twice), not after.
    Keyring.refuse_existing(obj.keyring_path)
    secret = passphrase.new_passphrase(
        obj.passphrase_file,
        file_env="KMSCLI_PASSPHRASE_FILE",
        value_env="KMSCLI_PASSPHRASE",
        what="New passphrase",
        cost=(scrypt_log2_n, SCRYPT_DEFAULT["r"]),
    )
    keyring = Keyring.create(
        obj.keyring_path, secret, region=region, account_id=account_id, scrypt_log2_n=scrypt_log2_n
    )
    emit(
        {
            "Keyring": str(keyring.path),
            "KeyringId": keyring.keyring_id,
            "Region": keyring.region,
            "AccountId": keyring.account_id,
        },
        output=obj.output,
        query=obj.query,
    )
