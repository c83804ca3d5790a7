"""--output table: the columns a person wants for each list, tables that fit the terminal
with every id whole, and --query results shaped as aws-cli shapes them."""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest
from conftest import ROOT, caller, create_key, make_keyring
from rich.cells import cell_len

from kmscli.cli import tables

LIST_KEYS_COLUMNS = ["KeyId", "Aliases", "KeySpec", "KeyUsage", "KeyState", "CreationDate", "Description"]
LONG_DESCRIPTION = "the release pipeline's signing key, rotated by hand each spring by whoever is on call"
WIDTHS = [60, 80, 120, 160, 200]


def test_list_keys_table_shows_id_aliases_spec_usage_state_created_description(kms):
    key = create_key(kms, "ECC_NIST_P256", None, "--description", "release signing")
    assert kms("create-alias", "--alias-name", "alias/releases", "--target-key-id", key).status == 0
    r = kms("list-keys", "--output", "table")
    assert r.status == 0, r.stderr
    header = next(line for line in r.out.splitlines() if "KeyId" in line)
    assert header.split() == LIST_KEYS_COLUMNS
    row = next(line for line in r.out.splitlines() if key in line)  # the whole id, on one line
    for value in ("alias/releases", "ECC_NIST_P256", "SIGN_VERIFY", "Enabled", "release signing"):
        assert value in row
    assert "Truncated" not in r.out  # False says nothing worth a table


def test_a_truncated_page_shows_the_next_marker(kms):
    create_key(kms)
    create_key(kms)
    r = kms("list-keys", "--limit", "1", "--output", "table")
    marker = kms("list-keys", "--limit", "1").json()["NextMarker"]
    assert r.status == 0 and "NextMarker" in r.out and marker in r.out


def test_an_empty_known_list_still_shows_its_header(kms):
    key = create_key(kms)
    r = kms("list-resource-tags", "--key-id", key, "--output", "table")
    assert r.status == 0 and "TagKey" in r.out and "TagValue" in r.out


def test_list_keys_detail_carries_each_keys_aliases(kms):
    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/b", "--target-key-id", key).status == 0
    assert kms("create-alias", "--alias-name", "alias/a", "--target-key-id", key).status == 0
    # AWS's ListKeys entry is KeyId and KeyArn only; --detail (kmscli's own) adds the rest.
    assert set(kms("list-keys").json()["Keys"][0]) == {"KeyId", "KeyArn"}
    entry = kms("list-keys", "--detail").json()["Keys"][0]
    assert entry["Aliases"] == ["alias/a", "alias/b"] and entry["KeyId"] == key
    assert "Aliases" not in kms("describe-key", "--key-id", key).json()["KeyMetadata"]
    assert kms("describe-key", "--key-id", key, "--detail").json()["KeyMetadata"]["Aliases"] == ["alias/a", "alias/b"]


# --- tables that fit ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    """Keys of several specs, one with two aliases and a long description, one with none."""
    kms = caller(make_keyring(tmp_path_factory.mktemp("tables") / "keyring"))
    signing = create_key(kms, "ECC_NIST_P256", None, "--description", LONG_DESCRIPTION)
    plain = create_key(kms, "SYMMETRIC_DEFAULT")
    rsa = create_key(kms, "RSA_2048", None, "--description", "short")
    for alias in ("alias/release-signing-2026", "alias/releases"):
        assert kms("create-alias", "--alias-name", alias, "--target-key-id", signing).status == 0
    kms.keys = {"signing": signing, "plain": plain, "rsa": rsa}
    kms.arns = [e["KeyArn"] for e in kms("list-keys").json()["Keys"]]
    kms.aliases = ["alias/release-signing-2026", "alias/releases"]
    return kms


def at_width(kms, width, *args):
    r = kms(*args, "--output", "table", env={"COLUMNS": str(width)})
    assert r.status == 0 and r.stderr == "", r.stderr
    return r.out.splitlines()


def assert_fits(lines, width):
    """Every line fits, but for a line that is a field and one word longer than the rest
    of the line (an ARN at 60 columns): a word is never split to fit."""
    for line in lines:
        if cell_len(line) > width:
            assert len(line.split()) <= 2, (width, line)


def field_text(lines, field):
    """The lines of a field's value in a block: its own, then those indented under it."""
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [field])
    indent = len(lines[start]) - len(lines[start].removeprefix(field).lstrip())
    text = [lines[start][indent:]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * indent) or not line.strip():
            break
        text.append(line[indent:])
    return text


def assert_whole(lines, words):
    for word in words:
        assert any(word in line for line in lines), (word, "\n".join(lines))


@pytest.mark.parametrize("width", WIDTHS)
def test_list_keys_at_every_width_keeps_each_id_and_alias_on_one_line(ring, width):
    lines = at_width(ring, width, "list-keys")
    assert_fits(lines, width)
    assert_whole(lines, [*ring.keys.values(), *ring.aliases, *LIST_KEYS_COLUMNS])
    assert not any("CreationD" in line and "CreationDate" not in line for line in lines)  # no header cut


@pytest.mark.parametrize("width", [200, 160])
def test_a_wide_terminal_gets_a_table_with_the_description_elided_first(ring, width):
    lines = at_width(ring, width, "list-keys")
    assert lines[1].split() == LIST_KEYS_COLUMNS  # "Keys", then the header
    row = next(line for line in lines if ring.keys["signing"] in line)
    assert "ECC_NIST_P256" in row and "SIGN_VERIFY" in row  # one record, one line
    assert LONG_DESCRIPTION not in "\n".join(lines) and "…" in row
    assert row.rstrip().endswith("…") and LONG_DESCRIPTION.startswith(row.split("  ")[-1].strip()[:-1])
    if width == 200:  # room enough: the aliases stay side by side
        assert "alias/release-signing-2026, alias/releases" in row


@pytest.mark.parametrize("width", [120, 80, 60])
def test_below_the_tables_minimum_each_key_is_a_block(ring, width):
    lines = at_width(ring, width, "list-keys")
    assert lines[0] == "Keys"
    for key in ring.keys.values():
        assert f"KeyId         {key}" in lines
    assert sum(line.startswith("KeyId ") for line in lines) == 3
    # The description is whole in a block, wrapped at spaces under itself.
    signing = lines[lines.index(f"KeyId         {ring.keys['signing']}") :]
    assert " ".join(field_text(signing, "Description")) == LONG_DESCRIPTION
    assert all(cell_len(line) <= width for line in lines)


def test_the_shrinking_order_free_text_then_several_values_then_blocks():
    records = tables.Records(
        "Keys",
        ["KeyId", "Aliases", "Description"],
        [[["1234567890"], ["alias/aaaaaaaa", "alias/bbbbbbbb"], ["a b c d e f g h i j k l m n o p"]]],
    )
    natural = [10, 30, 31]
    assert tables.column_widths(records, None) == natural
    assert tables.column_widths(records, 75) == natural  # 71 + 2 gaps of 2
    # Short of room: the description gives first, down to 12, the aliases untouched.
    assert tables.column_widths(records, 70) == [10, 30, 26]
    assert tables.column_widths(records, 56) == [10, 30, 12]
    # Then the aliases go one under the other, and what that frees returns to the text.
    assert tables.column_widths(records, 55) == [10, 15, 26]
    assert tables.column_widths(records, 41) == [10, 15, 12]
    # Below that, blocks.
    assert tables.column_widths(records, 40) is None


def test_wide_characters_are_measured_in_cells(kms):
    key = create_key(kms, "SYMMETRIC_DEFAULT", None, "--description", "鍵の説明 " * 20)
    lines = at_width(kms, 100, "list-keys")
    assert_whole(lines, [key])
    assert all(cell_len(line) <= 100 for line in lines)


def test_off_a_terminal_without_columns_a_table_is_as_wide_as_its_content(ring):
    r = ring("list-keys", "--output", "table", env={"COLUMNS": None})
    assert r.status == 0, r.stderr
    row = next(line for line in r.out.splitlines() if ring.keys["signing"] in line)
    assert LONG_DESCRIPTION in row and "alias/release-signing-2026, alias/releases" in row


@pytest.mark.parametrize("width", WIDTHS)
def test_describe_key_keeps_the_arn_whole_and_wraps_only_the_description(ring, width):
    lines = at_width(ring, width, "describe-key", "--key-id", ring.keys["signing"])
    assert lines[0] == "KeyMetadata"
    assert_fits(lines, width)
    arn = next(a for a in ring.arns if ring.keys["signing"] in a)
    assert any(line.split() == ["Arn", arn] for line in lines)
    assert " ".join(field_text(lines, "Description")) == LONG_DESCRIPTION
    assert field_text(lines, "Aliases") in (
        ["alias/release-signing-2026, alias/releases"],
        ["alias/release-signing-2026,", "alias/releases"],
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_aliases_and_rotations_keep_their_ids_whole(ring, width):
    lines = at_width(ring, width, "list-aliases")
    assert_fits(lines, width)
    assert_whole(lines, [*ring.aliases, ring.keys["signing"]])
    assert ring("rotate-key-on-demand", "--key-id", ring.keys["plain"]).status == 0
    rotations = ring("list-key-rotations", "--key-id", ring.keys["plain"], "--include-key-material", "ALL_KEY_MATERIAL").json()
    lines = at_width(ring, width, "list-key-rotations", "--key-id", ring.keys["plain"], "--include-key-material", "ALL_KEY_MATERIAL")
    assert_fits(lines, width)
    assert_whole(lines, [r["KeyMaterialId"] for r in rotations["Rotations"]])  # no longer cut to 16 and "…"


def _on_a_terminal_of(columns: int, args, env) -> str:
    """kmscli with standard output on a pseudo-terminal of ``columns`` columns and no COLUMNS
    variable: the width must come from the terminal itself."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    full = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    full.update({**env, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    try:
        p = subprocess.run([sys.executable, "-m", "kmscli", *args], stdin=subprocess.DEVNULL, stdout=terminal,
                           stderr=subprocess.PIPE, env=full, timeout=60)
    finally:
        os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the other side is closed and drained
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert p.returncode == 0, p.stderr
    return shown.decode().replace("\r\n", "\n")


def test_a_real_terminals_width_is_used(ring):
    narrow = _on_a_terminal_of(80, ["list-keys", "--output", "table"], ring.env).splitlines()
    assert narrow[0] == "Keys" and all(cell_len(line) <= 80 for line in narrow)
    assert f"KeyId         {ring.keys['signing']}" in narrow
    wide = _on_a_terminal_of(200, ["list-keys", "--output", "table"], ring.env).splitlines()
    assert wide[1].split() == LIST_KEYS_COLUMNS and all(cell_len(line) <= 200 for line in wide)


# --- --query: the shapes of aws-cli's table formatter -------------------------------------------


def aws_cli_structure(value):
    """(title, headers, rows) of each section aws-cli's own table formatter builds for
    ``value``, an object's single row turned into field/value rows (as aws-cli turns it when
    it is wider than the terminal, and kmscli always)."""
    from awscli.formatter import TableFormatter
    from awscli.table import convert_to_vertical_table

    formatter = TableFormatter(argparse.Namespace(color="off", query=None))
    assert formatter._build_table("TOP", value)
    sections = formatter.table._sections
    convert_to_vertical_table(sections)
    return [(None if s.title == "TOP" else s.title, list(s.headers), [list(r) for r in s.rows]) for s in sections]


def kmscli_structure(value):
    out = []
    for s in tables.sections(value, curated=False):
        if isinstance(s, tables.Pairs):  # aws-cli sorts an object's fields; kmscli keeps AWS's order
            out.append((s.title, [], sorted([k, ", ".join(v)] for k, v in s.pairs)))
        elif isinstance(s, tables.Records):
            out.append((s.title, s.columns or [], [[", ".join(c) for c in row] for row in s.rows]))
    return out


def same_structure(aws, ours):
    """Equal, but for the order of a table's columns (aws-cli sorts them)."""
    assert [(t, sorted(h)) for t, h, _ in aws] == [(t, sorted(h)) for t, h, _ in ours]
    for (_, headers, rows), (_, our_headers, our_rows) in zip(aws, ours):
        if headers:
            assert [dict(zip(headers, r)) for r in rows] == [dict(zip(our_headers, r)) for r in our_rows]
        else:
            assert rows == our_rows


QUERIES = {
    "list of lists": "Keys[*].[KeyId,KeySpec]",
    "list of scalars": "Keys[*].KeyId",
    "object": "Keys[?KeySpec=='RSA_2048'] | [0].{KeyId: KeyId, KeyArn: KeyArn, KeySpec: KeySpec, Description: Description}",
    "list of objects": "Keys[*].{Id: KeyId, Spec: KeySpec}",
    "object holding a list of objects": "{Count: length(Keys), Specs: Keys[*].{Id: KeyId, Spec: KeySpec}}",
}


@pytest.mark.parametrize("shape", QUERIES)
def test_query_table_shapes_are_aws_clis(ring, shape):
    value = ring("list-keys", "--detail", "--query", QUERIES[shape]).json()
    same_structure(aws_cli_structure(value), kmscli_structure(value))


def test_a_list_of_lists_is_rows_not_one_comma_joined_line(ring):
    lines = at_width(ring, 200, "list-keys", "--query", "Keys[*].[KeyId,KeySpec]")
    specs = {e["KeyId"]: e["KeySpec"] for e in ring("list-keys", "--detail").json()["Keys"]}
    assert [line.split() for line in lines] == [[k, s] for k, s in specs.items()]


def test_a_list_of_scalars_is_one_column(ring):
    lines = at_width(ring, 80, "list-keys", "--query", "Keys[*].KeyId")
    assert lines == [e["KeyId"] for e in ring("list-keys").json()["Keys"]]


def test_an_object_is_one_two_column_table_without_an_empty_aliases_table(ring):
    for key in ring.keys.values():
        lines = at_width(ring, 200, "list-keys", "--query", f"Keys[?KeyId=='{key}'] | [0]")
        assert lines[0].split() == ["KeyId", key]  # no title, no table before it
        assert sum("Aliases" in line for line in lines) == 1
        fields = [line.split()[0] for line in lines if line and not line.startswith(" ")]
        assert fields == ["KeyId", "KeyArn", "KeySpec", "KeyUsage", "KeyState", "CreationDate", "Description", "Aliases"]


def test_a_list_of_objects_is_a_table_with_the_querys_names(ring):
    lines = at_width(ring, 200, "list-keys", "--query", "Keys[*].{Id: KeyId, Spec: KeySpec}")
    assert lines[0].split() == ["Id", "Spec"] and set(lines[1]) == {"─"}
    assert len(lines) == 2 + len(ring.keys)


def test_a_query_table_narrower_than_an_arn_becomes_blocks_with_the_arn_whole(ring):
    lines = at_width(ring, 60, "list-keys", "--query", "Keys[*].[KeyArn,KeyId]")
    assert_whole(lines, ring.arns + list(ring.keys.values()))
    assert lines.count("") == len(ring.keys) - 1  # records apart


def test_a_scalar_is_printed_alone(ring):
    assert at_width(ring, 80, "describe-key", "--key-id", ring.keys["rsa"], "--query", "KeyMetadata.KeyId") == [ring.keys["rsa"]]


# --- any width, any content ----------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

WORD = st.text(alphabet="abcdef0123456789-/:鍵", min_size=1, max_size=40)
PROSE = st.lists(st.text(alphabet="abcxyz鍵", min_size=1, max_size=12), min_size=1, max_size=12).map(" ".join)
CELL = st.one_of(st.none(), WORD, PROSE, st.lists(WORD, max_size=3))


@settings(max_examples=400, deadline=None)
@given(
    rows=st.lists(st.fixed_dictionaries({"Id": WORD, "Names": st.lists(WORD, max_size=3), "Note": CELL, "Text": PROSE}), min_size=1, max_size=4),
    width=st.integers(20, 220),
)
def test_at_any_width_every_word_stays_whole_and_every_line_fits(rows, width):
    out = tables.render({"Items": rows}, colour=False, width=width).splitlines()
    def values(field):
        return [w for row in rows for w in (row[field] if isinstance(row[field], list) else [row[field]]) if w is not None]

    # Ids and names whole, on one line. Free text (a column holding spaces) may be elided
    # in a table, a word of it too; a column of words never is.
    words = values("Id") + values("Names")
    if not any(" " in w for w in values("Note")):
        words += values("Note")
    for word in words:
        assert any(word in line for line in out), (word, out)
    for line in out:
        if cell_len(line) > width:  # only a block's field and a word too long for any line
            assert len(line.split()) <= 2, (width, line)
