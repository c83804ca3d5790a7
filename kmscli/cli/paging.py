"""List commands page as aws-cli does: every page unless the user asks for one.

aws-cli turns its own pagination off as soon as the limit or marker parameter is given
(botocore's paginator rules); without them it follows NextMarker to the end and prints one
result. Scripts written for `aws kms list-keys` get every key either way."""

from __future__ import annotations

from collections.abc import Callable

import click

from .. import specs
from .options import text_value


def paging_options(what: str, operation: str):
    """--limit and --marker for ``operation`` (a key of specs.LIST_LIMITS), listing ``what``."""
    bounds = specs.LIST_LIMITS[operation]

    def decorate(f):
        f = click.option("--marker", metavar="MARKER", callback=text_value, help="Start where the previous page's NextMarker said (one page only).")(f)
        return click.option(
            "--limit",
            type=int,
            metavar="N",
            help=f"One page of at most N {what} ({bounds.low}-{bounds.high}). Without --limit or "
            f"--marker, every {what[:-1]} is listed, read in pages of {bounds.default}, as aws-cli does.",
        )(f)

    return decorate


def fetch_pages(fetch: Callable[..., dict], field: str, *, limit: int | None, marker: str | None) -> dict:
    """``fetch(limit=, marker=)`` once when the user chose a page, else until not Truncated."""
    if limit is not None or marker is not None:
        return fetch(limit=limit, marker=marker)
    result = fetch(limit=None, marker=None)
    items = list(result[field])
    while result.get("Truncated"):
        result = fetch(limit=None, marker=result["NextMarker"])
        items += result[field]
    whole = {k: v for k, v in result.items() if k != "NextMarker"}
    whole.update({field: items, "Truncated": False})
    return whole


def call_pages(obj, operation: str, request: dict, field: str, *, limit: int | None, marker: str | None) -> dict:
    """The List ``operation`` carried out through ``obj.call`` (the command's context), its
    ``field`` paged as ``fetch_pages`` pages it."""
    return fetch_pages(
        lambda limit, marker: obj.call(operation, {**request, "Limit": limit, "Marker": marker}),
        field,
        limit=limit,
        marker=marker,
    )
