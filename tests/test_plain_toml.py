"""kmscli/keyring/plain_toml.py reads the TOML kmscli writes without tomllib: whatever it
returns must be what tomllib returns for the same text, and whatever tomllib refuses it
must leave to tomllib (return None). Checked on the files of a real keyring, on damaged
copies of them, and on documents tomli_w writes from awkward values."""

from __future__ import annotations

import random
import tomllib

import pytest
import tomli_w

from conftest import caller, create_key, make_keyring
from kmscli.keyring import plain_toml

SEED = 16  # the same damaged copies on every run, so a failure reproduces


def agrees(text: str) -> bool:
    """plain_toml's answer for ``text`` is tomllib's, or plain_toml left it to tomllib."""
    fast = plain_toml.loads(text)
    if fast is None:
        return True
    try:
        return fast == tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False  # it accepted what tomllib refuses


@pytest.fixture(scope="module")
def keyring_files(tmp_path_factory):
    """Every kind of file a keyring holds: keyring.toml, key files of each family (with tags,
    a rotation, a description), alias buckets, access keys."""
    path = tmp_path_factory.mktemp("plain") / "keyring"
    kms = caller(make_keyring(path))
    sym = create_key(kms, "SYMMETRIC_DEFAULT", None, "--description", 'quoted "name" \\ é\ttab')
    create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    create_key(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    create_key(kms, "HMAC_256", "GENERATE_VERIFY_MAC")
    assert kms("tag-resource", "--key-id", sym, "--tags", "TagKey=team,TagValue=ops").status == 0
    assert kms("rotate-key-on-demand", "--key-id", sym).status == 0
    assert kms("create-alias", "--alias-name", "alias/plain", "--target-key-id", sym).status == 0
    assert kms("create-access-key").status == 0
    files = sorted(p for p in path.rglob("*.toml"))
    assert len(files) >= 6
    return path, files


def test_kmscli_files_read_as_tomllib_reads_them(keyring_files):
    path, files = keyring_files
    for file in files:
        text = file.read_text()
        assert agrees(text), file
    # the files every command reads take the fast way (else it would save nothing)
    assert plain_toml.loads((path / "keyring.toml").read_text()) is not None
    plain_keys = [f for f in (path / "keys").glob("*.toml") if plain_toml.loads(f.read_text()) is not None]
    assert len(plain_keys) >= 3


def test_damaged_copies_are_read_as_tomllib_reads_them_or_left_to_it(keyring_files):
    _, files = keyring_files
    rng = random.Random(SEED)
    alphabet = ['"', "\\", "[", "]", "=", " ", "\t", "\n", "\r", "#", "-", "0", "1", ".", "'", "a", "é", "\x00", "\x7f"]
    taken = 0
    for file in files:
        text = file.read_text()
        lines = text.split("\n")
        for _ in range(300):
            i = rng.randrange(len(text))
            kind = rng.randrange(5)
            if kind == 0:  # a character gone
                copy = text[:i] + text[i + 1 :]
            elif kind == 1:  # a character added
                copy = text[:i] + rng.choice(alphabet) + text[i:]
            elif kind == 2:  # a character replaced
                copy = text[:i] + rng.choice(alphabet) + text[i + 1 :]
            elif kind == 3:  # a line repeated (a key or a table twice)
                j = rng.randrange(len(lines))
                copy = "\n".join(lines[: j + 1] + [lines[j]] + lines[j + 1 :])
            else:  # two lines swapped (a key moved under another table)
                j, k = rng.randrange(len(lines)), rng.randrange(len(lines))
                moved = list(lines)
                moved[j], moved[k] = moved[k], moved[j]
                copy = "\n".join(moved)
            assert agrees(copy), (file.name, copy)
            taken += plain_toml.loads(copy) is not None
    assert taken  # some copies were still plain TOML, and were read the fast way


@pytest.mark.parametrize(
    "text",
    [
        'a = 1\na = 2\n',  # a key twice
        '[t]\nx = 1\n[t]\ny = 2\n',  # a table twice
        'a = 1\n[a]\n',  # a table over a key
        '[a]\n[[a]]\n',  # an array of tables over a table
        '[[a]]\n[a]\n',
        'a = 01\n',  # leading zero
        'a = -\n',
        'a = "x\ny"\n',
        'a = "\x01"\n',
        'a = "unterminated\n',
        '[]\n',
        '[[]]\n',
        '[a]]\n',
        '[[a]\n',
    ],
)
def test_what_tomllib_refuses_is_left_to_it(text):
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    assert plain_toml.loads(text) is None


@pytest.mark.parametrize(
    "text",
    [
        'a = 1 # comment\n',
        'a = "x" \n',
        ' a = 1\n',
        'a.b = 1\n',
        '"a" = 1\n',
        '[a.b]\nc = 1\n',
        'a = "\\u00e9"\n',
        "a = 'literal'\n",
        'a = 1.5\n',
        'a = 1_000\n',
        'a = +1\n',
        'a = 0x10\n',
        'a = 2026-12-05T08:39:42Z\n',
        'a = [1, 2]\n',
        'a = {b = 1}\n',
        'a = 1\r\n',
        'a = """x"""\n',
        'a=1\n',
    ],
)
def test_valid_toml_of_other_shapes_is_left_to_tomllib(text):
    tomllib.loads(text)  # valid
    assert plain_toml.loads(text) is None


def test_documents_tomli_w_writes_from_awkward_values():
    rng = random.Random(SEED)
    pieces = ["a", "Z", "0", "-", "_", " ", "é", "€", "𝄞", "=", "[", "#", "\t", '"', "\\", "\x00", "\x1f", "\x7f"]
    plain = 0
    for _ in range(300):
        def text():
            # now and then a character tomli_w escapes (then tomllib reads the document)
            return "".join(rng.choice(pieces[: 12 if rng.random() < 0.8 else None]) for _ in range(rng.randrange(6)))

        doc = {
            "format": "kmscli-key",
            "version": rng.choice([0, 1, -7, 10**30]),
            "flag": rng.choice([True, False]),
            "s": text(),
            "metadata": {"KeyId": text(), "Description": text()},
            # long, as wrapped key material is: tomli_w writes short arrays of tables inline
            "materials": [
                {"nonce": text(), "n": rng.randrange(-5, 5), "wrapped": "A" * 120} for _ in range(rng.randrange(1, 3))
            ],
        }
        written = tomli_w.dumps(doc)
        assert agrees(written), written
        fast = plain_toml.loads(written)
        if fast is not None:
            assert fast == doc
            plain += 1
    assert plain  # documents without escapes were read the fast way
