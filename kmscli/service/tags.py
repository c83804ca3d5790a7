"""Tag rules (AWS: at most 50 per key, TagKey 1-128 characters, TagValue 0-256)."""

from __future__ import annotations

from .. import specs
from ..errors import LimitExceededException, ValidationException


def check_tags(tags: list[dict]) -> None:
    seen = set()
    for tag in tags:
        key, value = tag.get("TagKey"), tag.get("TagValue", "")
        if not isinstance(key, str) or not 1 <= len(key) <= specs.TAG_KEY_MAX:
            raise ValidationException(f"TagKey must be 1 to {specs.TAG_KEY_MAX} characters")
        if not isinstance(value, str) or len(value) > specs.TAG_VALUE_MAX:
            raise ValidationException(f"TagValue must be 0 to {specs.TAG_VALUE_MAX} characters")
        if key.startswith("aws:"):
            raise ValidationException("TagKey may not begin with 'aws:' (reserved by AWS)")
        seen.add(key)
    if len(seen) > specs.TAGS_PER_KEY_MAX:
        raise LimitExceededException(f"a key can have at most {specs.TAGS_PER_KEY_MAX} tags")
