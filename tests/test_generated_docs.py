"""The committed completions/ and man/ are what tools/gen_docs.py makes from the code.

When a command, option or docstring changes, these tests fail until
`python tools/gen_docs.py` is run again and its output committed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import click
import pytest

from conftest import ROOT

from kmscli.cli.main import cli

SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES")


def _load_gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_docs = _load_gen_docs()
COMMANDS = cli.list_commands(click.Context(cli))


def test_committed_completions_and_man_pages_match_the_code():
    # A fresh process, as a developer runs it: nothing earlier tests did to click objects counts.
    check = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, f"regenerate with: python tools/gen_docs.py\n{check.stderr}{check.stdout}"
    assert check.stderr == ""
    # Not gen_docs.drift(ROOT) in this process too: click keeps the help option of the context
    # that first resolved a command, and Tab-completion tests resolve commands without the
    # group's ["-h", "--help"], so the order of tests would decide the pages.


def test_drift_is_detected(tmp_path):
    gen_docs.write(tmp_path)
    assert gen_docs.drift(tmp_path) == []
    (tmp_path / "man" / "kmscli-encrypt.1").write_text("old page\n")
    (tmp_path / "man" / "kmscli-removed-command.1").write_text("stale\n")
    (tmp_path / "completions" / "kmscli.fish").unlink()
    assert gen_docs.drift(tmp_path) == [
        "missing: completions/kmscli.fish",
        "out of date: man/kmscli-encrypt.1",
        "not generated (stale?): man/kmscli-removed-command.1",
    ]


def test_check_mode_exits_1_and_names_the_files(tmp_path, capsys):
    gen_docs.write(tmp_path)
    (tmp_path / "man" / "kmscli.1").write_text("old\n")
    assert gen_docs.main(["--check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "out of date: man/kmscli.1" in err
    assert "run: python tools/gen_docs.py" in err
    gen_docs.write(tmp_path)
    assert gen_docs.main(["--check", "--root", str(tmp_path)]) == 0


def test_there_is_a_page_per_command_and_the_main_page_lists_them():
    pages = sorted(p.name for p in (ROOT / "man").glob("*.1"))
    assert pages == sorted(["kmscli.1", *(f"kmscli-{name}.1" for name in COMMANDS)])
    main = (ROOT / "man" / "kmscli.1").read_text()
    for name in COMMANDS:
        assert f"\\fBkmscli\\-{name.replace('-', chr(92) + '-')}\\fR(1)" in main


@pytest.mark.parametrize("name", COMMANDS)
def test_each_page_has_every_section_and_the_docstring_example(name):
    page = (ROOT / "man" / f"kmscli-{name}.1").read_text()
    for section in SECTIONS:
        assert f"\n.SH {section}\n" in page, f"{name}: no {section}"
    _, examples = gen_docs.split_help(cli.get_command(click.Context(cli), name).help)
    assert examples, f"the docstring of {name} has no Example: block"
    first_line = examples[0].splitlines()[0].strip()
    assert gen_docs.esc(first_line) in page.split("\n.SH EXAMPLES\n", 1)[1]


@pytest.mark.parametrize("page", ["kmscli.1", "kmscli-encrypt.1", "kmscli-init.1", "kmscli-completion.1"])
def test_pages_render_without_warnings(page):
    path = ROOT / "man" / page
    check = subprocess.run(["groff", "-man", "-ww", "-z", str(path)], capture_output=True, text=True)
    assert check.returncode == 0 and check.stderr == "", check.stderr
    text = subprocess.run(
        ["groff", "-man", "-Tascii", "-P-cbou", "-rLL=80n", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "EXIT STATUS" in text and "ENVIRONMENT" in text
    assert "\\" not in text.replace("\\\n", "")  # no escape leaked into the rendered text


def test_encrypt_page_renders_options_and_example():
    text = subprocess.run(
        ["groff", "-man", "-Tascii", "-P-cbou", "-rLL=100n", str(ROOT / "man" / "kmscli-encrypt.1")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text = " ".join(text.split())  # justified lines have runs of spaces
    assert "kmscli [GLOBAL OPTIONS] encrypt --key-id KEY [OPTIONS]" in text
    assert "--encryption-algorithm ALGORITHM" in text
    assert "One of: SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256." in text
    assert "kmscli encrypt --key-id alias/backups --plaintext 'secret' \\" in text
    assert "KMSCLI_PASSPHRASE" in text and "KMSCLI_KEYRING" in text


def test_roff_escaping():
    assert gen_docs.esc(".starts a request") == "\\&.starts a request"
    assert gen_docs.esc("'quote") == "\\&'quote"
    assert gen_docs.esc("a\\b --x") == "a\\eb \\-\\-x"
    assert gen_docs.fmt("\\fBkmscli-x\\fR") == "\\fBkmscli\\-x\\fR"


def test_split_help_separates_the_example_block():
    paragraphs, examples = gen_docs.split_help(
        "Do a thing.\n\nMore about it.\n\n\b\nExample:\n  kmscli thing --x 1 \\\n      --y 2\n"
    )
    assert paragraphs == [(False, "Do a thing."), (False, "More about it.")]
    assert examples == ["kmscli thing --x 1 \\\n    --y 2"]


def test_the_environment_section_describes_each_variable_in_a_sentence():
    """It said "Read by kmscli; see the description of the command that uses it." of
    KMSCLI_NEW_PASSPHRASE_FILE: each variable now has a sentence of its own."""
    gen = _load_gen_docs()
    page = (ROOT / "man" / "kmscli.1").read_text()
    section = page.split(".SH ENVIRONMENT\n", 1)[1].split("\n.SH ", 1)[0]
    entries = section.split(".TP\n")[1:]
    names = [e.split("\n")[0].removeprefix("\\fB").removesuffix("\\fR") for e in entries]
    assert set(names) == set(gen.ENVIRONMENT)
    for entry in entries:
        name, text = entry.strip("\n").split("\n", 1)
        assert "\n" not in text and "see the description" not in text
        assert text[0].isupper() and text.endswith((".", "\\&.")), (name, text)
        assert len(text.split()) >= 8, (name, text)  # a sentence, not a label
    for read in ("KMSCLI_NEW_PASSPHRASE_FILE", "KMSCLI_LOCK_TIMEOUT", "XDG_RUNTIME_DIR", "TMPDIR"):
        assert read in names


def test_a_variable_read_without_a_sentence_stops_the_generator(monkeypatch):
    gen = _load_gen_docs()
    monkeypatch.delitem(gen.ENVIRONMENT, "KMSCLI_LOCK_TIMEOUT")
    with pytest.raises(SystemExit, match="KMSCLI_LOCK_TIMEOUT"):
        gen.environment_names()
