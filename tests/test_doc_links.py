"""Every link in README.md and docs/*.md resolves: a relative link to a file of the
repository, an anchor to a heading of its page (GitHub's rule for heading ids), and every
repository path or page named in backticks or prose exists. The README once sent readers to
STYLE.md, which is not in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP_DIRS = ("docs", "tests", "bench", "tools", "kmscli", "man", "completions")


def prose(path: Path) -> str:
    """The page without its fenced code blocks (a shell example is not a link)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def links(path: Path) -> list[str]:
    text = re.sub(r"`[^`\n]*`", "", prose(path))  # nor is a code span
    return re.findall(r"\]\(([^)\s]+)\)", text)


def slug(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose(path), flags=re.M):
        base = slug(heading)
        out.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_link_resolves(page):
    checked = 0
    for target in links(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (page.parent / file_part).resolve() if file_part else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        assert ROOT in linked.parents or linked == ROOT, f"{page.name}: {target} is outside the repository"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: no heading #{anchor} in {linked.name}"
        checked += 1
    if page.name == "README.md":
        assert checked > 20  # the check sees the README's links


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_repository_path_and_page_named_exists(page):
    text = page.read_text(encoding="utf-8")
    named = set(re.findall(rf"`((?:{'|'.join(TOP_DIRS)})/[\w./-]*\w)`", text))
    for path in named:
        if not any(c in path for c in "*<>") and not re.search(r"[A-Z]{3,}", path):  # not man/kmscli-COMMAND.1
            assert (ROOT / path).exists(), f"{page.name} names {path}, which is not in the repository"
    for md in set(re.findall(r"(?<![\w/.-])([A-Za-z][\w-]*\.md)\b", prose(page))):
        assert (page.parent / md).exists() or (ROOT / md).exists() or (ROOT / "docs" / md).exists(), (
            f"{page.name} names {md}, which is not in the repository"
        )


def test_the_slug_rule():
    assert slug("How kmscli differs from `aws kms`") == "how-kmscli-differs-from-aws-kms"
    assert slug("What differs from AWS KMS") == "what-differs-from-aws-kms"
    assert slug("Master-key rotation") == "master-key-rotation"
