"""create-key, describe-key, list-keys."""

from __future__ import annotations

import json

import click

from .. import specs
from ..errors import ValidationException
from ..service import keys
from .members import aws_members
from .options import ListOption, choice, key_id_option, parse_pairs, read_text_argument, text_value
from .paging import call_pages, paging_options
from .render import emit


def parse_tags(tag: tuple[str, ...], tags: tuple[str, ...]) -> list[dict]:
    """--tag K=V pairs, and --tags TagKey=K,TagValue=V as aws-cli writes them."""
    result = [{"TagKey": k, "TagValue": v} for k, v in parse_pairs(tag, "--tag", shorthand=False).items()]
    for item in read_text_argument(tuple(tags), "--tags"):
        if item.lstrip().startswith("["):
            result += _json_tags(item)
            continue
        fields = dict(part.split("=", 1) for part in item.split(",") if "=" in part)
        # Both members, as AWS's Tag structure requires (TagValue may be empty: TagValue=).
        if set(fields) != {"TagKey", "TagValue"}:
            raise ValidationException(f"--tags {item!r} is not TagKey=K,TagValue=V")
        result.append({"TagKey": fields["TagKey"], "TagValue": fields["TagValue"]})
    keys_seen = [t["TagKey"] for t in result]
    if len(keys_seen) != len(set(keys_seen)):
        raise ValidationException("a tag key is given twice")
    return result


def _json_tags(item: str) -> list[dict]:
    """aws-cli's JSON form: --tags '[{"TagKey": "K", "TagValue": "V"}, ...]'."""
    try:
        tags = json.loads(item)
    except (json.JSONDecodeError, RecursionError):  # nested thousands deep: bad input too
        tags = None
    if not isinstance(tags, list) or not all(
        isinstance(t, dict) and set(t) == {"TagKey", "TagValue"} and all(isinstance(v, str) for v in t.values())
        for t in tags
    ):
        raise ValidationException('--tags JSON must be a list of {"TagKey": "K", "TagValue": "V"} objects')
    return [{"TagKey": t["TagKey"], "TagValue": t["TagValue"]} for t in tags]


def tag_options(f):
    f = click.option("--tags", "tags", cls=ListOption, metavar="TagKey=K,TagValue=V ...",
                     help="Tags as aws-cli writes them (several after one --tags, or --tags repeated), "
                     "a JSON list of them, or file://PATH holding that JSON.")(f)
    return click.option("--tag", "tag", multiple=True, metavar="KEY=VALUE", help="A tag (repeatable).")(f)


@click.command("create-key")
@aws_members("CreateKey")
@click.option("--key-spec", type=choice(specs.KEY_SPECS), help="Default SYMMETRIC_DEFAULT.")
@click.option(
    "--customer-master-key-spec",
    type=choice(specs.KEY_SPECS),
    help="AWS's deprecated name of --key-spec (refused when the two differ).",
)
@click.option(
    "--key-usage",
    type=choice(specs.KEY_USAGES),
    help="Default: ENCRYPT_DECRYPT for SYMMETRIC_DEFAULT and RSA, GENERATE_VERIFY_MAC for HMAC, "
    "SIGN_VERIFY for ECC, Ed25519 and ML-DSA. KEY_AGREEMENT: ECC_NIST_P256/P384/P521 only.",
)
@click.option("--description", default="", callback=text_value, help="Up to 8192 characters (or file://PATH).")
@tag_options
@click.option(
    "--origin",
    type=choice(specs.ORIGINS),
    default="AWS_KMS",
    show_default=True,
    help="EXTERNAL: a key with no material, PendingImport until import-key-material.",
)
@click.pass_obj
def create_key(obj, key_spec, customer_master_key_spec, key_usage, description, tag, tags, origin, **aws):
    """Create a KMS key of any key spec.

    \b
    Example:
      kmscli create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --description releases
    """
    result = obj.call(
        "CreateKey",
        {
            "KeySpec": key_spec,
            # The contract's default per spec (cli-contract.md); AWS's CreateKey insists on
            # a KeyUsage for a spec that cannot encrypt.
            "KeyUsage": key_usage or _default_usage(key_spec or customer_master_key_spec),
            "Description": description,
            "Tags": parse_tags(tag, tags) or None,
            "Origin": origin,
            "CustomerMasterKeySpec": customer_master_key_spec,
        },
        aws,
    )
    emit(result, output=obj.output, query=obj.query)


def _default_usage(spec_name: str | None) -> str | None:
    spec = specs.KEY_SPECS.get(spec_name or specs.SYMMETRIC_DEFAULT)
    return spec.default_usage if spec is not None and not spec.unsupported else None


detail_option = click.option(
    "--detail",
    is_flag=True,
    help="kmscli only: add each key's aliases (and, for list-keys, spec, usage, state, creation date "
    "and description) to the result, beyond AWS's shape. --output table always shows them.",
)


@click.command("describe-key")
@aws_members("DescribeKey")
@key_id_option()
@detail_option
@click.pass_obj
def describe_key(obj, key_id, detail, **aws):
    """Show a key's metadata (AWS's KeyMetadata). Needs no passphrase.

    \b
    Example:
      kmscli describe-key --key-id alias/backups
    """
    result = obj.call("DescribeKey", {"KeyId": key_id}, aws)
    if detail or obj.output == "table":
        result["KeyMetadata"]["Aliases"] = obj.backend.aliases_of(result["KeyMetadata"]["KeyId"])
    emit(result, output=obj.output, query=obj.query)


@click.command("list-keys")
@paging_options("keys", "ListKeys")
@click.option(
    "--resource-owners",
    cls=ListOption,
    type=choice(keys.RESOURCE_OWNERS),
    help="As AWS: SELF (the default) lists the keyring's keys; no other account shares keys with a keyring.",
)
@detail_option
@click.pass_obj
def list_keys(obj, limit, marker, resource_owners, detail):
    """List the keys of the keyring: KeyId and KeyArn, as AWS. Needs no passphrase.

    \b
    Example:
      kmscli list-keys --output table
    """
    owners = list(resource_owners) or None
    result = call_pages(obj, "ListKeys", {"ResourceOwners": owners}, "Keys", limit=limit, marker=marker)
    if detail or obj.output == "table":
        details = obj.backend.key_details([k["KeyId"] for k in result["Keys"]])
        result["Keys"] = [{**k, **details[k["KeyId"]]} for k in result["Keys"]]
    emit(result, output=obj.output, query=obj.query)
