"""enable-key-rotation, disable-key-rotation, get-key-rotation-status, rotate-key-on-demand,
list-key-rotations."""

from __future__ import annotations

import click

from .. import specs
from ..service import rotation
from .options import choice, key_id_option
from .paging import call_pages, paging_options
from .render import emit


@click.command("enable-key-rotation")
@key_id_option()
@click.option(
    "--rotation-period-in-days",
    type=int,
    default=specs.ROTATION_PERIOD_DEFAULT,
    show_default=True,
    help=f"Days between automatic rotations ({specs.ROTATION_PERIOD_DAYS[0]}-{specs.ROTATION_PERIOD_DAYS[1]}).",
)
@click.pass_obj
def enable_key_rotation(obj, key_id, rotation_period_in_days):
    """Rotate a symmetric encryption key automatically, every period. Prints nothing.

    A rotation that falls due happens at the next command that writes to the keyring.
    Earlier ciphertexts still decrypt; new ones use the newest key material.

    \b
    Example:
      kmscli enable-key-rotation --key-id alias/backups --rotation-period-in-days 180
    """
    obj.call("EnableKeyRotation", {"KeyId": key_id, "RotationPeriodInDays": rotation_period_in_days})


@click.command("disable-key-rotation")
@key_id_option()
@click.pass_obj
def disable_key_rotation(obj, key_id):
    """Stop automatic rotation; the key keeps every material it has. Prints nothing.

    \b
    Example:
      kmscli disable-key-rotation --key-id alias/backups
    """
    obj.call("DisableKeyRotation", {"KeyId": key_id})


@click.command("get-key-rotation-status")
@key_id_option()
@click.pass_obj
def get_key_rotation_status(obj, key_id):
    """Show whether a key rotates automatically, how often, and when next. Needs no passphrase.

    \b
    Example:
      kmscli get-key-rotation-status --key-id alias/backups
    """
    emit(obj.call("GetKeyRotationStatus", {"KeyId": key_id}), output=obj.output, query=obj.query)


@click.command("rotate-key-on-demand")
@key_id_option()
@click.pass_obj
def rotate_key_on_demand(obj, key_id):
    """Rotate a symmetric encryption key now (at most 25 times per key, as AWS).

    A key with imported material rotates to the material imported for it with
    import-key-material --import-type NEW_KEY_MATERIAL; earlier ciphertexts still decrypt.

    \b
    Example:
      kmscli rotate-key-on-demand --key-id alias/backups
    """
    emit(obj.call("RotateKeyOnDemand", {"KeyId": key_id}), output=obj.output, query=obj.query)


@click.command("list-key-rotations")
@key_id_option()
@click.option(
    "--include-key-material",
    type=choice(rotation.INCLUDE_KEY_MATERIAL),
    help="ROTATIONS_ONLY (the default): the materials rotations made current; ALL_KEY_MATERIAL: "
    "also the first material and imported material waiting for rotate-key-on-demand.",
)
@paging_options("rotations", "ListKeyRotations")
@click.pass_obj
def list_key_rotations(obj, key_id, include_key_material, limit, marker):
    """List a key's rotations, oldest first, with the key material each one made. Needs no passphrase.

    For a key with imported material, each entry also says whether its material is imported
    (ImportState) and when it expires.

    \b
    Example:
      kmscli list-key-rotations --key-id alias/backups --output table
    """
    request = {"KeyId": key_id, "IncludeKeyMaterial": include_key_material}
    result = call_pages(obj, "ListKeyRotations", request, "Rotations", limit=limit, marker=marker)
    emit(result, output=obj.output, query=obj.query)
