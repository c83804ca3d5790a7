"""--query is JMESPath, as in aws-cli. Plain paths are walked by kmscli itself (no jmespath
import on the common path); a property test holds that walker to the jmespath library's
answers, and the rest of the language (filters, multi-selects, functions) is the library's."""

from __future__ import annotations

import re

import jmespath
import pytest
from conftest import create_key, run_process
from hypothesis import given, settings
from hypothesis import strategies as st

from kmscli.cli import render

NAMES = st.sampled_from(["a", "b", "Keys", "KeyId", "_x1"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
DATA = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, max_size=4)), max_leaves=20)
STEP = st.one_of(NAMES.map(lambda n: "." + n), st.integers(-4, 4).map(lambda i: f"[{i}]"), st.just("[*]"))


@st.composite
def simple_queries(draw):
    return draw(NAMES) + "".join(draw(st.lists(STEP, max_size=5)))


@settings(max_examples=500, deadline=None)
@given(data=DATA, query=simple_queries())
def test_the_walker_answers_as_jmespath_does(data, query):
    assert re.fullmatch(render._SIMPLE_QUERY, query)  # this is the path the walker takes
    assert render.apply_query(data, query) == jmespath.search(query, data)


@pytest.mark.parametrize("query", ["Keys[]", "Keys[?KeyId]", "a.b || c", "length(Keys)", "Keys[0:2]", "`1`", "0a"])
def test_anything_else_goes_to_jmespath(query):
    data = {"Keys": [{"KeyId": "k1"}, {"KeyId": "k2"}, {"x": 1}], "a": {"b": None}, "c": 3}
    assert not re.fullmatch(render._SIMPLE_QUERY, query)
    try:
        expected = jmespath.search(query, data)
    except jmespath.exceptions.JMESPathError:
        with pytest.raises(render.ValidationException):
            render.apply_query(data, query)
    else:
        assert render.apply_query(data, query) == expected


def test_filters_and_multiselects_as_aws_cli_scripts_write_them(kms):
    mac = create_key(kms, "HMAC_256")
    sym = create_key(kms, "SYMMETRIC_DEFAULT", None, "--description", "backups")
    assert kms("create-alias", "--alias-name", "alias/backups", "--target-key-id", sym).status == 0
    assert kms("create-alias", "--alias-name", "alias/mac", "--target-key-id", mac).status == 0

    # The alias of a key, by filter (a common aws-cli idiom).
    r = kms("list-aliases", "--query", f"Aliases[?TargetKeyId=='{sym}'].AliasName", "--output", "text")
    assert r.status == 0, r.stderr
    assert r.out == "alias/backups\n"
    # Several fields of one result: one tab-separated line in text, as aws-cli.
    r = kms("describe-key", "--key-id", sym, "--query", "KeyMetadata.[KeyId,KeySpec,Description]", "--output", "text")
    assert r.status == 0, r.stderr
    assert r.out == f"{sym}\tSYMMETRIC_DEFAULT\tbackups\n"
    # Several fields of every item: one line per item.
    r = kms("list-aliases", "--query", "Aliases[*].[AliasName,TargetKeyId]", "--output", "text")
    assert r.out.splitlines() == [f"alias/backups\t{sym}", f"alias/mac\t{mac}"]
    # Functions.
    assert kms("list-aliases", "--query", "length(Aliases)").json() == 2


def test_a_bad_expression_is_one_usage_error(kms):
    r = kms("list-keys", "--query", "Keys[?KeyId==]")
    assert r.status == 2 and r.stdout == b""
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("kmscli: error: ValidationException: --query 'Keys[?KeyId==]' is not a valid JMESPath expression")
    assert len(lines) <= 2


def test_jmespath_is_imported_only_for_the_queries_that_need_it(keyring_env):
    def imports(*args) -> str:
        r = run_process(["list-keys", *args], env={**keyring_env, "PYTHONPROFILEIMPORTTIME": "1"})
        assert r.status == 0, r.stderr
        return r.stderr

    assert "jmespath" not in imports("--query", "Keys[*].KeyId")
    assert "jmespath" in imports("--query", "Keys[?KeyId].KeyId")


@pytest.mark.parametrize("where", ["before", "after"])
def test_a_bad_expression_is_refused_before_the_command_changes_anything(kms, where):
    """Checked only when the result is printed, it failed create-key after the key was made."""
    before = kms("list-keys", "--query", "length(Keys)").json()
    query = ["--query", "KeyMetadata.["]
    args = [*query, "create-key"] if where == "before" else ["create-key", *query]
    r = kms(*args)
    assert r.status == 2 and r.stdout == b"", r.stderr
    assert "is not a valid JMESPath expression" in r.stderr
    assert kms("list-keys", "--query", "length(Keys)").json() == before


@pytest.mark.parametrize("query", ["Keys[\u0663]", "Keys[-\u0663]", "Keys[\uff11]"])
def test_an_index_in_other_digits_is_refused_as_jmespath_refuses_it(query):
    """re's \\d takes any Unicode digit; the walker read Keys[\u0663] as Keys[3]."""
    assert not re.fullmatch(render._SIMPLE_QUERY, query)
    with pytest.raises(render.ValidationException):
        render.check_query(query)
    with pytest.raises(render.ValidationException):
        render.apply_query({"Keys": [1, 2, 3, 4]}, query)


def test_a_query_that_fails_on_the_result_says_the_command_was_carried_out(kms):
    """A query that parses can still fail on the result (length() of a boolean), after the
    command ran: the error must not call the expression invalid, as if nothing happened."""
    r = kms("create-key", "--query", "length(KeyMetadata.Enabled)")
    assert r.status == 2 and r.stdout == b""
    assert "could not be applied to the result" in r.stderr
    assert "not a valid JMESPath expression" not in r.stderr
    assert "the command itself was carried out" in r.stderr
    assert kms("list-keys", "--query", "length(Keys)").json() == 1


@pytest.mark.parametrize("query", ["a||" * 500 + "b", "a&&" * 500 + "b", "a|" * 500 + "b"])
def test_a_query_too_deep_to_apply_is_refused_before_the_command_runs(kms, query):
    """`a||a||...` parses without recursion but is applied recursively: the depth is checked
    before the command, or create-key made a key, exited 2 and never printed its id."""
    r = kms("create-key", "--query", query)
    assert r.status == 2 and r.stdout == b"", r.stderr
    assert "nested too deeply" in r.stderr and "carried out" not in r.stderr
    assert kms("list-keys", "--query", "length(Keys)").json() == 0


def test_ordinary_queries_are_far_from_the_depth_bound():
    render.check_query("Keys[?KeyId=='x'] | [0].{Id: KeyId, Arn: KeyArn} || `null`")
    render.check_query("(" * 90 + "Keys" + ")" * 90)
