"""create-alias, update-alias, delete-alias, list-aliases."""

from __future__ import annotations

import click

from .options import key_id_option, text_value
from .paging import call_pages, paging_options
from .render import emit

alias_name_option = click.option(
    "--alias-name", required=True, metavar="alias/NAME", callback=text_value,
    help="alias/ then letters, digits, / _ - (at most 256 characters), or file://PATH holding it."
)
target_option = key_id_option(
    name="--target-key-id",
    dest="target_key_id",
    help_="Key id or key ARN of the key the alias names (not another alias).",
)


@click.command("create-alias")
@alias_name_option
@target_option
@click.pass_obj
def create_alias(obj, alias_name, target_key_id):
    """Give a key a friendly name, usable wherever a --key-id is taken. Prints nothing.

    A name is unique in the keyring; a key can have up to 50 aliases.

    \b
    Example:
      kmscli create-alias --alias-name alias/backups --target-key-id 1234abcd-12ab-34cd-56ef-1234567890ab
      kmscli encrypt --key-id alias/backups --plaintext secret
    """
    obj.call("CreateAlias", {"AliasName": alias_name, "TargetKeyId": target_key_id})


@click.command("update-alias")
@alias_name_option
@target_option
@click.pass_obj
def update_alias(obj, alias_name, target_key_id):
    """Point an existing alias at another key of the same type and usage. Prints nothing.

    \b
    Example:
      kmscli update-alias --alias-name alias/backups --target-key-id 0987dcba-09fe-87dc-65ba-ab0987654321
    """
    obj.call("UpdateAlias", {"AliasName": alias_name, "TargetKeyId": target_key_id})


@click.command("delete-alias")
@alias_name_option
@click.pass_obj
def delete_alias(obj, alias_name):
    """Delete an alias; its key is not affected. Prints nothing.

    \b
    Example:
      kmscli delete-alias --alias-name alias/backups
    """
    obj.call("DeleteAlias", {"AliasName": alias_name})


@click.command("list-aliases")
@key_id_option(required=False, help_="Only the aliases of this key (key id, key ARN or alias).")
@paging_options("aliases", "ListAliases")
@click.pass_obj
def list_aliases(obj, key_id, limit, marker):
    """List the aliases of the keyring, or of one key. Needs no passphrase.

    \b
    Example:
      kmscli list-aliases --key-id alias/backups --output table
    """
    result = call_pages(obj, "ListAliases", {"KeyId": key_id}, "Aliases", limit=limit, marker=marker)
    emit(result, output=obj.output, query=obj.query)
