"""Pagination as AWS's List* operations do it: Limit, Marker, Truncated and NextMarker."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import specs
from ..errors import ValidationException


def check_limit(limit: int | None, operation: str) -> int:
    """The page size of ``operation`` (a key of specs.LIST_LIMITS): ``limit``, or its default."""
    bounds = specs.LIST_LIMITS[operation]
    limit = bounds.default if limit is None else limit
    if not bounds.low <= limit <= bounds.high:
        raise ValidationException(f"Limit must be between {bounds.low} and {bounds.high}")
    return limit


def first_from(names: Sequence[str], marker: str) -> int:
    """Where a page starts in sorted ``names``: the first name at or after ``marker``, so that
    a marker whose item was removed meanwhile still continues the listing."""
    return next((i for i, n in enumerate(names) if n >= marker), len(names))


def page(
    items: Sequence,
    *,
    start: int,
    limit: int,
    field: str,
    row: Callable[[object], dict],
    marker_of: Callable[[object], str] = lambda item: item,
) -> dict:
    """{field: rows of the page, "Truncated": ..., "NextMarker": the next page's first item}."""
    result = {field: [row(item) for item in items[start : start + limit]], "Truncated": start + limit < len(items)}
    if result["Truncated"]:
        result["NextMarker"] = marker_of(items[start + limit])
    return result
