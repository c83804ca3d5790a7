"""update-key-description, tag-resource, untag-resource, list-resource-tags."""

from __future__ import annotations

import click

from .key_commands import parse_tags, tag_options
from .options import ListOption, key_id_option, text_value
from .paging import call_pages, paging_options
from .render import emit


@click.command("update-key-description")
@key_id_option()
@click.option("--description", required=True, callback=text_value, help="The new description, up to 8192 characters ('' clears it).")
@click.pass_obj
def update_key_description(obj, key_id, description):
    """Replace a key's description. Prints nothing.

    \b
    Example:
      kmscli update-key-description --key-id alias/backups --description 'nightly backups'
    """
    obj.call("UpdateKeyDescription", {"KeyId": key_id, "Description": description})


@click.command("tag-resource")
@key_id_option()
@tag_options
@click.pass_obj
def tag_resource(obj, key_id, tag, tags):
    """Add tags to a key, or change their values. Prints nothing.

    A key has at most 50 tags; a TagKey is 1-128 characters and may not begin with aws:,
    a TagValue 0-256 characters.

    \b
    Example:
      kmscli tag-resource --key-id alias/backups --tag team=ops --tags TagKey=env,TagValue=prod
    """
    obj.call("TagResource", {"KeyId": key_id, "Tags": parse_tags(tag, tags)})


@click.command("untag-resource")
@key_id_option()
@click.option("--tag-keys", "tag_keys", cls=ListOption, required=True, metavar="KEY ...", callback=text_value,
              help="Tag keys to remove: several after one --tag-keys, as aws-cli, or --tag-keys repeated.")
@click.pass_obj
def untag_resource(obj, key_id, tag_keys):
    """Remove tags from a key; a key without such a tag is not an error. Prints nothing.

    \b
    Example:
      kmscli untag-resource --key-id alias/backups --tag-keys team --tag-keys env
    """
    obj.call("UntagResource", {"KeyId": key_id, "TagKeys": list(tag_keys)})


@click.command("list-resource-tags")
@key_id_option()
@paging_options("tags", "ListResourceTags")
@click.pass_obj
def list_resource_tags(obj, key_id, limit, marker):
    """List a key's tags, sorted by key. Needs no passphrase.

    \b
    Example:
      kmscli list-resource-tags --key-id alias/backups --output table
    """
    result = call_pages(obj, "ListResourceTags", {"KeyId": key_id}, "Tags", limit=limit, marker=marker)
    emit(result, output=obj.output, query=obj.query)
