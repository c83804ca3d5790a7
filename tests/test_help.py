"""Help that reads whole: every command's summary in full in `kmscli --help`, and each
command's help lists the global options that apply to it too."""

from __future__ import annotations

import re

import click
import pytest
from conftest import run_in_process

from kmscli.cli.main import cli

COMMANDS = cli.list_commands(click.Context(cli))


def first_sentence(command: click.Command) -> str:
    paragraph = " ".join(re.split(r"\n\s*\n", command.help.strip())[0].split())
    return re.match(r".*?\.(?=\s|$)", paragraph).group(0)


def summaries(help_text: str) -> dict[str, str]:
    """name -> summary, its wrapped lines joined, from the Commands section."""
    section = help_text.split("\nCommands:\n", 1)[1]
    found: dict[str, list[str]] = {}
    name = None
    for line in section.splitlines():
        if not line.strip():
            break
        m = re.match(r"  (\S+)(?:\s{2,}(.*))?$", line)
        if m and m.group(1) in COMMANDS:
            name = m.group(1)
            found[name] = [m.group(2)] if m.group(2) else []
        else:
            found[name].append(line.strip())
    return {n: " ".join(parts) for n, parts in found.items()}


@pytest.mark.parametrize("columns", [60, 80, 120, 200])
def test_every_command_summary_is_shown_whole_at_any_width(columns):
    r = run_in_process(["--help"], env={"COLUMNS": str(columns)})
    assert r.status == 0, r.stderr
    shown = summaries(r.out)
    assert sorted(shown) == COMMANDS
    ctx = click.Context(cli)
    for name in COMMANDS:
        assert shown[name] == first_sentence(cli.get_command(ctx, name)), name
    assert "..." not in r.out.split("\nCommands:\n", 1)[1]
    assert "change-passphrase" in shown and shown["change-passphrase"].endswith("the old one stops working at once.")


@pytest.mark.parametrize("name", COMMANDS)
def test_each_commands_help_lists_the_global_options(name):
    r = run_in_process([name, "--help"], env={"COLUMNS": "80"})
    assert r.status == 0, r.stderr
    section = r.out.split("\nGlobal options (before or after the command name; see kmscli --help):\n", 1)[1]
    listed = re.findall(r"^  (--[a-z-]+)", section, flags=re.M)
    assert listed == [
        "--keyring", "--passphrase-file", "--output", "--query", "--cli-binary-format",
        "--endpoint-url", "--region", "--profile", "--cli-connect-timeout", "--cli-read-timeout",
        "--no-verify-ssl", "--ca-bundle", "--debug",
    ]
    assert "--output [json|text|table]" in section and "--query JMESPATH" in section
    # Listed apart, not among the command's own options (they stay hidden there).
    own = r.out.split("\nOptions:\n", 1)[1].split("\nGlobal options", 1)[0]
    assert "--query" not in re.findall(r"^  (--[a-z-]+)", own, flags=re.M)


def test_a_global_option_after_the_command_does_what_the_help_says(kms):
    r = kms("list-keys", "--output", "text", "--query", "length(Keys)")
    assert r.status == 0 and r.out == "0\n"


@pytest.mark.parametrize("name", COMMANDS)
def test_no_option_or_command_name_is_broken_at_a_hyphen(name):
    """click's wrapper broke lines after hyphens: "--new-passphrase-" / "file"."""
    command = cli.get_command(click.Context(cli), name)
    r = run_in_process([name, "--help"], env={"COLUMNS": "60"})
    assert r.status == 0, r.stderr
    texts = [command.help] + [p.help for p in command.params if getattr(p, "help", None) and not p.hidden]
    words = {w for text in texts for w in re.findall(r"(?<![\w-])--?[a-z][a-z0-9-]*-[a-z0-9]+", text)}
    words |= {w for text in texts for w in re.findall(r"\b[a-z]+(?:-[a-z]+){2,}\b", text)}  # command names
    for word in words:
        assert word in r.out, word
