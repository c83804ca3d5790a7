"""CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

Each alias is {TargetKeyId, CreationDate, LastUpdatedDate}, kept by the keyring in a sealed
bucket by a hash of its name (one small file read and written per change, whatever the
number of aliases), with an index of names and of each key's aliases for listing. Every
change reads, checks and writes inside ``keyring.transaction()``, so two processes creating
the same name cannot both succeed, and two creating different names cannot lose one
another's alias."""

from __future__ import annotations

import re

from .. import specs
from ..errors import (
    AlreadyExistsException,
    InvalidAliasNameException,
    InvalidMarkerException,
    LimitExceededException,
    NotFoundException,
    ValidationException,
)
from ..keyring import Keyring
from . import paging
from .keydoc import iso, now
from .resolve import _shown, alias_not_found, resolve_key_id
from .state import refuse_if_pending_deletion

PREFIX = "alias/"
RESERVED_PREFIX = "alias/aws/"
_NAME = re.compile(r"alias/[A-Za-z0-9/_:-]+")


def check_alias_name(name: str, *, reserved_ok: bool = False) -> str:
    """AWS's rules: ``alias/`` then letters, digits, ``/ _ -``; 1-256 characters in all."""
    if not isinstance(name, str) or not 1 <= len(name) <= specs.ALIAS_NAME_MAX:
        raise InvalidAliasNameException(f"AliasName must be 1 to {specs.ALIAS_NAME_MAX} characters")
    if not name.startswith(PREFIX):
        raise ValidationException(  # AWS's exception and words (tests/test_aws_recorded.py)
            'Alias must start with the prefix "alias/". Please see '
            "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html",
            hint=f"try: alias/{_shown(name)}",
        )
    if not _NAME.fullmatch(name):
        raise InvalidAliasNameException(
            f"AliasName '{_shown(name)}' may hold only letters, digits and / _ - after 'alias/'"
        )
    if ":" in name:
        # AWS's model's pattern allows ':' (alias ARNs share the shape) but an alias name may
        # not hold one: AWS's developer guide, and AWS's words as moto's suite has them.
        raise ValidationException(f"{_shown(name)} contains invalid characters for an alias")
    if name.startswith(RESERVED_PREFIX) and not reserved_ok:
        raise InvalidAliasNameException("AliasName may not begin with 'alias/aws/': it is reserved for AWS managed keys")
    return name


_PATTERN = re.compile(r"[a-zA-Z0-9:/_-]+")  # AWS's AliasNameType pattern


def check_existing_alias_name(name: str) -> str:
    """The name given to UpdateAlias or DeleteAlias. AWS's model lets neither raise
    InvalidAliasNameException: a name outside the model's AliasNameType (1-256 characters of
    letters, digits, : / _ -) is a ValidationException, as AWS's request validation says;
    any other name that is no alias of the keyring (no alias/ prefix, or AWS's reserved
    alias/aws/) is NotFoundException, as no such alias can exist here."""
    if not isinstance(name, str) or not 1 <= len(name) <= specs.ALIAS_NAME_MAX or not _PATTERN.fullmatch(name):
        raise ValidationException(
            f"AliasName must be 1 to {specs.ALIAS_NAME_MAX} letters, digits and : / _ - (alias/NAME)"
        )
    if not name.startswith(PREFIX) or name.startswith(RESERVED_PREFIX):
        raise NotFoundException(
            f"alias {_shown(name)} does not exist"
            + (": alias/aws/ names AWS managed keys, which a keyring has not" if name.startswith(RESERVED_PREFIX) else ": an alias name begins with alias/"),
            hint="list the aliases with: kmscli list-aliases",
        )
    return name


def _target(keyring: Keyring, target_key_id: str) -> dict:
    """The target key's verified document. As AWS, the target is a key id or key ARN: an
    alias cannot point at another alias."""
    if isinstance(target_key_id, str) and (target_key_id.startswith(PREFIX) or ":alias/" in target_key_id):
        raise ValidationException(
            "TargetKeyId must be a key id or key ARN, not an alias",
            hint="find the key an alias names with: kmscli describe-key --key-id ALIAS",
        )
    doc = keyring.load_key(resolve_key_id(keyring, target_key_id), verify=True)
    refuse_if_pending_deletion(doc["metadata"])
    return doc


def _check_room(keyring: Keyring, key_id: str) -> None:
    """AWS's 50 aliases per key. Counted from the alias index (one small file); only when
    that says the key is full are its aliases read from their verified buckets, so a forged
    index entry can never refuse an alias, and a key with many aliases costs no more to
    alias than one with none."""
    if len(keyring.alias_rows_of_key(key_id)) < specs.ALIASES_PER_KEY_MAX:
        return
    count = len(keyring.alias_rows_of_key(key_id, verify=True))
    if count >= specs.ALIASES_PER_KEY_MAX:
        raise LimitExceededException(f"key {key_id} already has {specs.ALIASES_PER_KEY_MAX} aliases, the most a key can have")


def create_alias(keyring: Keyring, alias_name: str, target_key_id: str) -> dict:
    check_alias_name(alias_name)
    with keyring.transaction():
        if keyring.load_alias(alias_name, verify=True) is not None:
            raise AlreadyExistsException(  # AWS's words
                f"An alias with the name {keyring.alias_arn(alias_name)} already exists",
                hint=f"point it at another key with: kmscli update-alias --alias-name {alias_name} --target-key-id KEY",
            )
        key_id = _target(keyring, target_key_id)["metadata"]["KeyId"]
        _check_room(keyring, key_id)
        stamp = iso(now(keyring))
        keyring.save_alias_changes({alias_name: {"TargetKeyId": key_id, "CreationDate": stamp, "LastUpdatedDate": stamp}})
    return {}


def _family(meta: dict) -> tuple[str, str]:
    """What UpdateAlias keeps fixed: symmetric, asymmetric or HMAC, and the key usage."""
    spec = specs.KEY_SPECS[meta["KeySpec"]]
    kind = "ASYMMETRIC" if spec.asymmetric else spec.family
    return kind, meta["KeyUsage"]


def update_alias(keyring: Keyring, alias_name: str, target_key_id: str) -> dict:
    check_existing_alias_name(alias_name)
    with keyring.transaction():
        entry = keyring.load_alias(alias_name, verify=True)
        if entry is None:
            raise NotFoundException(
                alias_not_found(keyring, alias_name),
                hint=f"create it with: kmscli create-alias --alias-name {alias_name} --target-key-id KEY",
            )
        new = _target(keyring, target_key_id)["metadata"]
        if new["KeyId"] == entry.get("TargetKeyId"):
            return {}
        try:
            current = keyring.load_key(entry["TargetKeyId"], verify=True)["metadata"]
        except NotFoundException:
            current = None  # the old key is gone: any key may take the alias
        if current is not None and _family(current) != _family(new):
            raise ValidationException(
                f"alias {alias_name} names a key of type {' '.join(_family(current))}; key {new['KeyId']} is "
                f"{' '.join(_family(new))}: an alias keeps its key type and usage",
                hint="delete the alias and create it again to point it at another kind of key",
            )
        _check_room(keyring, new["KeyId"])
        entry = dict(entry, TargetKeyId=new["KeyId"], LastUpdatedDate=iso(now(keyring)))
        keyring.save_alias_changes({alias_name: entry})
    return {}


def delete_alias(keyring: Keyring, alias_name: str) -> dict:
    check_existing_alias_name(alias_name)
    with keyring.transaction():
        if keyring.load_alias(alias_name, verify=True) is None:
            raise NotFoundException(alias_not_found(keyring, alias_name), hint="list the aliases with: kmscli list-aliases")
        keyring.save_alias_changes({alias_name: None})
    return {}


def list_aliases(
    keyring: Keyring, *, key_id: str | None = None, limit: int | None = None, marker: str | None = None
) -> dict:
    """ListAliases, sorted by name, paginated as AWS (``NextMarker`` is the next name). A page
    reads the alias index (a chunk or two of names), or with ``key_id`` that key's aliases:
    its cost does not grow with the aliases of the keyring."""
    limit = paging.check_limit(limit, "ListAliases")
    if marker is not None and (not isinstance(marker, str) or not _NAME.fullmatch(marker)):
        raise InvalidMarkerException("the marker is not one that list-aliases returned")
    if key_id is not None:
        wanted = resolve_key_id(keyring, key_id)
        keyring.load_key(wanted)  # NotFoundException for a key that does not exist, as AWS
        rows = keyring.alias_rows_of_key(wanted)
        if marker is not None:
            rows = [r for r in rows if r[0] >= marker]
        rows = rows[: limit + 1]
    else:
        rows = keyring.alias_rows_from(marker or "", limit + 1)

    def row(r: tuple) -> dict:
        name, target, created, updated = r
        return {
            "AliasName": name,
            "AliasArn": keyring.alias_arn(name),
            "TargetKeyId": target,
            "CreationDate": None if created == "-" else created,
            "LastUpdatedDate": None if updated == "-" else updated,
        }

    return paging.page(rows, start=0, limit=limit, field="Aliases", row=row, marker_of=lambda r: r[0])
