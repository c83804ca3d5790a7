"""Pagination as AWS's List* operations do it: Limit, Marker, Truncated and NextMarker."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import ValidationException


def check_limit(limit: int | None, default: int, bounds: tuple[int, int]) -> int:
    limit = default if limit is None else limit
    low, high = bounds
    if not low <= limit <= high:
        raise ValidationException(f"Limit must be between {low} and {high}")
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
