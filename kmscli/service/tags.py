"""Tag rules (AWS: at most 50 per key, TagKey 1-128 characters, TagValue 0-256) and the tag operations."""

from __future__ import annotations

from .. import specs
from ..errors import InvalidMarkerException, LimitExceededException, TagException, ValidationException
from . import paging
from .keydoc import editing
from .resolve import resolve_key_id
from .state import refuse_if_pending_deletion


def check_tags(tags: list[dict], *, held: bool = False) -> None:
    """AWS's rules, and its TagException words (recorded from AWS KMS: tests/test_aws_recorded.py):
    a TagKey twice in one request, more than 50 tags in one request, a key beginning with aws:
    in any case. ``held``: ``tags`` are what a key would hold after TagResource; more than 50
    of those is the key's quota, LimitExceededException."""
    seen = set()
    for tag in tags:
        key, value = tag.get("TagKey"), tag.get("TagValue", "")
        if not isinstance(key, str) or not 1 <= len(key) <= specs.TAG_KEY_MAX:
            raise ValidationException(f"TagKey must be 1 to {specs.TAG_KEY_MAX} characters")
        if not isinstance(value, str) or len(value) > specs.TAG_VALUE_MAX:
            raise ValidationException(f"TagValue must be 0 to {specs.TAG_VALUE_MAX} characters")
        if key[:4].lower() == "aws:":
            raise TagException("Tags beginning with aws: are reserved")
        if key in seen:
            raise TagException("Duplicate tag keys", hint=f"TagKey {key[:128]!r} is given twice")
        seen.add(key)
    if len(seen) > specs.TAGS_PER_KEY_MAX:
        if held:
            raise LimitExceededException(f"a key can have at most {specs.TAGS_PER_KEY_MAX} tags")
        raise TagException("Too many tags", hint=f"a key can have at most {specs.TAGS_PER_KEY_MAX} tags")


# --- the operations: TagResource, UntagResource, ListResourceTags ---------------------------
# Tags live in the key document's "tags" table (TagKey -> TagValue), as create_key writes them.



def tag_resource(keyring, key_id: str, tags: list[dict]) -> dict:
    """Add tags, replacing the value of a TagKey the key has already, as AWS."""

    tags = list(tags)
    if not tags:
        # AWS's model lets Tags be empty, so the key is looked up first: an unknown key is
        # NotFoundException whatever the tags (moto's suite, AWS's order of checks).
        keyring.load_key(resolve_key_id(keyring, key_id))
        raise ValidationException("Tags must hold at least one tag", hint="give one with --tag KEY=VALUE")
    check_tags(tags)
    with editing(keyring, key_id) as doc:
        refuse_if_pending_deletion(doc["metadata"])
        merged = dict(doc.get("tags", {}))
        merged.update({t["TagKey"]: t.get("TagValue", "") for t in tags})
        # The limit counts the key's tags after the change, not the tags of this call.
        check_tags([{"TagKey": k, "TagValue": v} for k, v in merged.items()], held=True)
        doc["tags"] = merged
    return {}


def untag_resource(keyring, key_id: str, tag_keys: list[str]) -> dict:
    """Remove tags by key; a key the key has no tag for is ignored, as AWS."""

    if not tag_keys:
        keyring.load_key(resolve_key_id(keyring, key_id))  # as TagResource: the key first
        raise ValidationException("TagKeys must hold at least one tag key", hint="give one with --tag-keys KEY")
    for key in tag_keys:
        if not isinstance(key, str) or not 1 <= len(key) <= specs.TAG_KEY_MAX:
            raise ValidationException(f"TagKey must be 1 to {specs.TAG_KEY_MAX} characters")
    with editing(keyring, key_id) as doc:
        refuse_if_pending_deletion(doc["metadata"])
        remaining = {k: v for k, v in doc.get("tags", {}).items() if k not in set(tag_keys)}
        if remaining:
            doc["tags"] = remaining
        else:
            doc.pop("tags", None)
    return {}


def list_resource_tags(keyring, key_id: str, *, limit: int | None = None, marker: str | None = None) -> dict:
    """ListResourceTags, sorted by TagKey; needs no passphrase. ``NextMarker`` is the next TagKey."""

    limit = paging.check_limit(limit, "ListResourceTags")
    doc = keyring.load_key(resolve_key_id(keyring, key_id))
    tags = doc.get("tags", {})
    names = sorted(tags)
    start = 0
    if marker is not None:
        start = paging.first_from(names, _tag_of_marker(marker))
    return paging.page(
        names, start=start, limit=limit, field="Tags", row=lambda k: {"TagKey": k, "TagValue": tags[k]}, marker_of=_marker
    )


# A NextMarker is opaque, and AWS's model bounds it to [\u0020-\u00FF]*: a tag key may hold
# any character, so the marker is the key's UTF-8 bytes in base64url behind a version prefix.
_MARKER_PREFIX = "tags1."


def _marker(tag_key: str) -> str:
    import base64

    return _MARKER_PREFIX + base64.urlsafe_b64encode(tag_key.encode("utf-8")).decode("ascii").rstrip("=")


def _tag_of_marker(marker) -> str:
    import base64
    import binascii

    invalid = InvalidMarkerException("the marker is not one that list-resource-tags returned")
    if not isinstance(marker, str) or not marker.startswith(_MARKER_PREFIX) or len(marker) > 1024:
        raise invalid
    body = marker[len(_MARKER_PREFIX) :]
    try:
        tag_key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        raise invalid from None
    if not 1 <= len(tag_key) <= specs.TAG_KEY_MAX or _marker(tag_key) != marker:
        raise invalid
    return tag_key
