"""create-access-key, list-access-keys, delete-access-key: the credentials of `kmscli serve`."""

from __future__ import annotations

import click

from ..service import access_keys
from .options import complete_access_key_ids, text_value
from .render import emit


@click.command("create-access-key")
@click.pass_obj
def create_access_key(obj):
    """Create a credential for `kmscli serve`, printed as `aws iam create-access-key` does.

    The SecretAccessKey is shown this once: the keyring keeps it wrapped under its master
    key. Give the pair to an SDK as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; every request
    to `kmscli serve` must be signed with an access key of its keyring.

    \b
    Example:
      kmscli create-access-key --query AccessKey.[AccessKeyId,SecretAccessKey] --output text
    """
    emit(access_keys.create_access_key(obj.open_keyring()), output=obj.output, query=obj.query)


@click.command("list-access-keys")
@click.pass_obj
def list_access_keys(obj):
    """List the keyring's access keys: id, status and creation date (never a secret).
    Needs no passphrase.

    \b
    Example:
      kmscli list-access-keys --query 'AccessKeyMetadata[*].AccessKeyId'
    """
    emit(access_keys.list_access_keys(obj.open_keyring()), output=obj.output, query=obj.query)


@click.command("delete-access-key")
@click.option(
    "--access-key-id", required=True, metavar="AKID", callback=text_value, help="The access key to delete (AKIA...).",
    shell_complete=complete_access_key_ids,
)
@click.pass_obj
def delete_access_key(obj, access_key_id):
    """Delete an access key. A running `kmscli serve` refuses it from its next request on
    (UnrecognizedClientException). Prints nothing.

    \b
    Example:
      kmscli delete-access-key --access-key-id AKIAEXAMPLEEXAMPLE23
    """
    access_keys.delete_access_key(obj.open_keyring(), access_key_id)
