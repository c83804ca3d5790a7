"""enable-key, disable-key, schedule-key-deletion, cancel-key-deletion."""

from __future__ import annotations

import click

from .. import specs
from .options import key_id_option
from .render import emit


@click.command("enable-key")
@key_id_option()
@click.pass_obj
def enable_key(obj, key_id):
    """Enable a disabled key, so that cryptographic operations may use it. Prints nothing.

    \b
    Example:
      kmscli enable-key --key-id alias/backups
    """
    obj.call("EnableKey", {"KeyId": key_id})


@click.command("disable-key")
@key_id_option()
@click.pass_obj
def disable_key(obj, key_id):
    """Disable a key: every cryptographic operation then refuses it (DisabledException),
    until enable-key. Prints nothing.

    \b
    Example:
      kmscli disable-key --key-id alias/backups
    """
    obj.call("DisableKey", {"KeyId": key_id})


@click.command("schedule-key-deletion")
@key_id_option()
@click.option(
    "--pending-window-in-days",
    type=int,
    default=specs.PENDING_WINDOW_DEFAULT,
    show_default=True,
    help=f"Days before the key is destroyed ({specs.PENDING_WINDOW_DAYS[0]}-{specs.PENDING_WINDOW_DAYS[1]}).",
)
@click.pass_obj
def schedule_key_deletion(obj, key_id, pending_window_in_days):
    """Schedule a key's destruction. Until DeletionDate it is PendingDeletion: unusable, and
    cancel-key-deletion can still save it. After that date the next command that writes to
    the keyring deletes the key file, with all its key material, and its aliases: every
    ciphertext made under the key is then lost for good.

    \b
    Example:
      kmscli schedule-key-deletion --key-id alias/old --pending-window-in-days 7
    """
    result = obj.call("ScheduleKeyDeletion", {"KeyId": key_id, "PendingWindowInDays": pending_window_in_days})
    emit(result, output=obj.output, query=obj.query)


@click.command("cancel-key-deletion")
@key_id_option()
@click.pass_obj
def cancel_key_deletion(obj, key_id):
    """Cancel a scheduled deletion. The key comes back Disabled, as in AWS: enable it to use it.

    \b
    Example:
      kmscli cancel-key-deletion --key-id alias/old && kmscli enable-key --key-id alias/old
    """
    emit(obj.call("CancelKeyDeletion", {"KeyId": key_id}), output=obj.output, query=obj.query)
