"""One strict base64 decoder serves the command line and the keyring files."""

import base64

import pytest
from hypothesis import given, strategies as st

from kmscli.cli.io import decode_base64
from kmscli.encoding import b64decode_strict
from kmscli.errors import KeyringDamagedException, ValidationException
from kmscli.keyring import format as fmt


@pytest.mark.parametrize(
    "text,problem",
    [("AAE", "not valid"), ("AA=E", "not valid"), ("AAF=", "not canonical"), ("AAE=\n", "not valid"), ("AA E=", "not valid")],
)
def test_stray_characters_and_other_spellings_are_refused(text, problem):
    with pytest.raises(ValueError, match=f"^the blob is {problem} base64$"):
        b64decode_strict(text, "the blob", error=ValueError)


@given(st.binary(max_size=64))
def test_the_canonical_spelling_reads_back(data):
    text = base64.b64encode(data).decode()
    assert b64decode_strict(text, "x", error=ValueError) == data
    assert fmt.b64d(fmt.b64e(data), "x") == decode_base64(text, "x") == data


@given(st.text(alphabet="AB+/=\n ", max_size=12))
def test_the_command_line_differs_from_the_keyring_only_by_tolerating_whitespace(text):
    def outcome(read, error, value):
        try:
            return read(value, "it")
        except error as e:
            return str(e)

    assert outcome(decode_base64, ValidationException, text) == outcome(fmt.b64d, KeyringDamagedException, "".join(text.split()))
