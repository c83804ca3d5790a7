"""get-key-policy, list-key-policies: the key policy each key answers with (read-only)."""

from __future__ import annotations

import click

from .options import key_id_option, text_value
from .paging import call_pages, paging_options
from .render import emit


@click.command("get-key-policy")
@key_id_option()
@click.option("--policy-name", metavar="NAME", callback=text_value,
              help="The policy's name: default, the only one a keyring's keys have (AWS's default).")
@click.pass_obj
def get_key_policy(obj, key_id, policy_name):
    """Show a key's policy: AWS's default key policy, which lets the account do everything.

    A keyring enforces no policy (anyone who can unlock it, and any access key of kmscli
    serve, may use every key), and each key says so with the policy AWS gives a key made
    without one. Needs no passphrase.

    \b
    Example:
      kmscli get-key-policy --key-id alias/backups
    """
    emit(obj.call("GetKeyPolicy", {"KeyId": key_id, "PolicyName": policy_name}), output=obj.output, query=obj.query)


@click.command("list-key-policies")
@key_id_option()
@paging_options("policies", "ListKeyPolicies")
@click.pass_obj
def list_key_policies(obj, key_id, limit, marker):
    """List the names of a key's policies: default. Needs no passphrase.

    \b
    Example:
      kmscli list-key-policies --key-id alias/backups
    """
    result = call_pages(obj, "ListKeyPolicies", {"KeyId": key_id}, "PolicyNames", limit=limit, marker=marker)
    emit(result, output=obj.output, query=obj.query)
