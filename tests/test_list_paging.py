"""List commands page as aws-cli does: all pages unless --limit or --marker asks for one."""

import pytest

from kmscli.cli.paging import fetch_pages
from conftest import create_key


def test_without_limit_every_key_is_listed_across_pages(kms, monkeypatch):
    from kmscli import specs

    monkeypatch.setitem(specs.LIST_LIMITS, "ListKeys", specs.ListLimit(1, 1000, 2))  # pages of 2: three pages for five keys
    made = sorted(create_key(kms) for _ in range(5))
    result = kms("list-keys").json()
    assert [k["KeyId"] for k in result["Keys"]] == made
    assert result["Truncated"] is False and "NextMarker" not in result


def test_with_limit_or_marker_one_page_is_listed(kms):
    made = sorted(create_key(kms) for _ in range(3))
    first = kms("list-keys", "--limit", "2").json()
    assert [k["KeyId"] for k in first["Keys"]] == made[:2]
    assert first["Truncated"] is True and first["NextMarker"] == made[2]
    rest = kms("list-keys", "--marker", first["NextMarker"]).json()
    assert [k["KeyId"] for k in rest["Keys"]] == made[2:] and rest["Truncated"] is False


@pytest.mark.parametrize("limit,marker", [(None, None), (5, None), (None, "b")])
def test_fetch_pages_follows_next_marker_only_when_no_page_was_chosen(limit, marker):
    pages = {None: {"Items": [1, 2], "Truncated": True, "NextMarker": "b"}, "b": {"Items": [3], "Truncated": False}}
    calls = []

    def fetch(limit, marker):
        calls.append((limit, marker))
        return pages[marker]

    result = fetch_pages(fetch, "Items", limit=limit, marker=marker)
    if limit is None and marker is None:
        assert result == {"Items": [1, 2, 3], "Truncated": False} and len(calls) == 2
    else:
        assert calls == [(limit, marker)] and result == pages[marker]


@pytest.mark.parametrize(
    "command,operation,low,high",
    [
        ("list-keys", "ListKeys", 1, 1000),
        ("list-aliases", "ListAliases", 1, 100),
        ("list-resource-tags", "ListResourceTags", 1, 50),
        ("list-key-rotations", "ListKeyRotations", 1, 1000),
    ],
)
def test_each_list_command_takes_its_limit_bounds_from_the_one_table(kms, command, operation, low, high):
    from kmscli import specs

    assert specs.LIST_LIMITS[operation][:2] == (low, high)
    assert f"({low}-{high})" in kms(command, "--help").out
    key = create_key(kms)
    args = [command] + (["--key-id", key] if command in ("list-resource-tags", "list-key-rotations") else [])
    for bad in (low - 1, high + 1):
        result = kms(*args, "--limit", str(bad))
        # Outside AWS's model (1-1000) AWS's front end answers, in its words; inside it, the
        # operation's own bound (tests/test_aws_recorded.py).
        expected = f"Value '{bad}' at 'limit' failed to satisfy constraint" if not 1 <= bad <= 1000 else f"Limit must be between {low} and {high}"
        assert result.status == 2 and expected in result.stderr
    assert kms(*args, "--limit", str(high)).status == 0
