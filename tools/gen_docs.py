#!/usr/bin/env python3
"""Regenerate the shell completions and man pages from kmscli's click command tree.

    python tools/gen_docs.py            # rewrite completions/ and man/
    python tools/gen_docs.py --check    # exit 1 and name the files that drifted

Everything here is derived from the code: commands and options from the click tree, help
from the docstrings (whose "Example:" block becomes EXAMPLES), exit statuses from
kmscli.errors, environment variables from the options and the sources. Output does not
depend on the date, the terminal or the environment, so a test can regenerate it and
compare it with what is committed (tests/test_generated_docs.py).
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout, even where another kmscli is installed

import click  # noqa: E402

from kmscli import __version__, errors  # noqa: E402
from kmscli.cli.main import cli  # noqa: E402
from kmscli.cli.shell_commands import SHELLS, completion_script  # noqa: E402
from kmscli.keyring import format as keyring_format  # noqa: E402

COMPLETION_FILES = {"bash": "kmscli.bash", "zsh": "_kmscli", "fish": "kmscli.fish"}
PROG = "kmscli"

# What each exit status means (the command-line contract); the exception names under each
# come from kmscli.errors, so a new exception class shows up in the pages by itself.
EXIT_MEANINGS = {
    errors.ExitStatus.OK: "success.",
    errors.ExitStatus.NO: "the answer is no: a signature or MAC did not verify.",
    errors.ExitStatus.USAGE: "usage error or bad input: an unknown option, a malformed value, a wrong size, "
    "an invalid combination of key spec, usage and algorithm.",
    errors.ExitStatus.REFUSED: "the operation was refused: the key (or the keyring) does not exist, the key is disabled or pending "
    "deletion, or does not support the usage or algorithm; incorrect key; invalid ciphertext.",
    errors.ExitStatus.LOCKED: "the keyring is locked, the passphrase is wrong, or the session has expired.",
    errors.ExitStatus.DAMAGED: "the keyring is damaged or was tampered with, or a file could not be read or written.",
}

# Every variable kmscli reads, each described in a sentence of its own. The sources are
# scanned for KMSCLI_* names and os.environ reads (environment_names), and a name found there
# without a sentence here stops the generator: none is forgotten, none gets a placeholder.
ENVIRONMENT = {
    "KMSCLI_KEYRING": "The keyring directory to use when \\fB--keyring\\fR is not given.",
    "KMSCLI_PASSPHRASE_FILE": "A file whose first line is the passphrase, read when \\fB--passphrase-file\\fR "
    "is not given.",
    "KMSCLI_PASSPHRASE": "The passphrase itself, for CI and throwaway keyrings; it is tried after a session "
    "and a passphrase file, and before the prompt.",
    "KMSCLI_SESSION": "A session token printed by \\fBkmscli unlock\\fR, tried before any passphrase source "
    "until it expires or \\fBkmscli lock\\fR ends it.",
    "KMSCLI_OUTPUT": "The output format (json, text or table) to use when \\fB--output\\fR is not given.",
    "KMSCLI_DEBUG": "When set to anything but an empty value, 0 or false, errors show a Python traceback, "
    "as \\fB--debug\\fR does.",
    "KMSCLI_NEW_PASSPHRASE": "The new passphrase of \\fBchange-passphrase\\fR, used when neither "
    "\\fB--new-passphrase-file\\fR nor KMSCLI_NEW_PASSPHRASE_FILE is given.",
    "KMSCLI_NEW_PASSPHRASE_FILE": "A file whose first line is the new passphrase of \\fBchange-passphrase\\fR, "
    "read when \\fB--new-passphrase-file\\fR is not given.",
    "KMSCLI_LOCK_TIMEOUT": "The number of seconds a writer waits for another kmscli process to release the "
    "keyring lock before it fails with DependencyTimeoutException (default 10).",
    "COLUMNS": "The width that \\fB--output table\\fR fits its tables to; without it, a terminal's own "
    "width, and off a terminal no limit at all.",
    "NO_COLOR": "When set, tables are drawn without colour or bold, as they are when standard output is not "
    "a terminal.",
    "XDG_DATA_HOME": "The directory under which the default keyring lives, "
    "\\fI$XDG_DATA_HOME/kmscli/keyring\\fR; when it is unset or not absolute, "
    "\\fI~/.local/share/kmscli/keyring\\fR is used.",
    "XDG_RUNTIME_DIR": "The private directory where session files are kept; when it is unset, a "
    "directory of the user's own under TMPDIR is used.",
    "TMPDIR": "The directory that holds the user's session directory when XDG_RUNTIME_DIR is unset "
    "(default \\fI/tmp\\fR).",
    "KMSCLI_ENDPOINT_URL": "The KMS endpoint that every KMS operation runs against instead of the keyring "
    "when \\fB--endpoint-url\\fR is not given (\\fBaws\\fR: AWS KMS in the resolved Region).",
    "AWS_REGION": "In the endpoint mode, the Region when \\fB--region\\fR is not given, as aws-cli v2 and "
    "the AWS SDKs read it; otherwise the profile's region is used.",
    "AWS_RETRY_MODE": "In the endpoint mode, botocore's retry mode (standard, the default, adaptive or legacy), "
    "as aws-cli reads it.",
    "AWS_MAX_ATTEMPTS": "In the endpoint mode, how many times in all botocore tries a request that was "
    "throttled or failed on the way, as aws-cli reads it.",
}
# Set only by the completion scripts, not by users.
ENVIRONMENT_IGNORED = {"_KMSCLI_COMPLETE"}


# --- roff helpers ------------------------------------------------------------------------------


def esc(text: str) -> str:
    """Escape text for roff: backslashes, hyphens (so options copy-paste as ASCII '-'), and
    lines that would otherwise start a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n"))


def fmt(text: str) -> str:
    """Like esc, but keeps \\fB/\\fI/\\fR font changes written in our own sentences."""
    parts = re.split(r"(\\f[BIR])", text)
    return "".join(p if re.fullmatch(r"\\f[BIR]", p) else esc(p) for p in parts)


def bold(text: str) -> str:
    return f"\\fB{esc(text)}\\fR"


def italic(text: str) -> str:
    return f"\\fI{esc(text)}\\fR"


def preformatted(lines: str) -> list[str]:
    return [".RS 4", ".nf", esc(lines.rstrip("\n")), ".fi", ".RE"]


# --- reading the click tree --------------------------------------------------------------------


def split_help(help_text: str) -> tuple[list[tuple[bool, str]], list[str]]:
    """(paragraphs, examples) of a docstring: each paragraph marked preformatted when click's
    ``\\b`` says so; the "Example:" blocks separated out for the EXAMPLES section."""
    text = inspect.cleandoc(help_text or "").split("\f")[0]
    paragraphs: list[tuple[bool, str]] = []
    examples: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        verbatim = block.startswith("\b")
        block = block.removeprefix("\b").strip("\n")
        lines = block.split("\n")
        for i, line in enumerate(lines):
            if line.strip() in ("Example:", "Examples:"):
                before = "\n".join(lines[:i]).strip()
                if before:
                    paragraphs.append((verbatim, before))
                examples.append(textwrap.dedent("\n".join(lines[i + 1 :])).strip("\n"))
                break
        else:
            if block.strip():
                paragraphs.append((verbatim, block))
    return paragraphs, examples


def short_help(command: click.Command) -> str:
    paragraphs, _ = split_help(command.help or "")
    first = " ".join(paragraphs[0][1].split()) if paragraphs else ""
    return first.rstrip(".")


def visible_params(command: click.Command, ctx: click.Context) -> list[click.Parameter]:
    return [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]


def metavar(param: click.Parameter) -> str | None:
    if isinstance(param, click.Option) and (param.is_flag or param.count):
        return None
    if param.metavar:
        return param.metavar
    if isinstance(param, click.Argument):
        return param.name.upper()
    if isinstance(param.type, click.Path):
        return "DIR" if not param.type.file_okay else "FILE"
    word = param.opts[0].lstrip("-").split("-")[-1]
    return word.upper()


def option_details(param: click.Parameter) -> list[str]:
    """Sentences about a parameter beyond its help: choices, range, default, environment."""
    details = []
    kind = param.type
    if isinstance(kind, click.Choice):
        details.append("One of: " + ", ".join(map(str, kind.choices)) + ".")
    elif isinstance(kind, (click.IntRange, click.FloatRange)) and kind.min is not None and kind.max is not None:
        details.append(f"From {kind.min} to {kind.max}.")
    if getattr(param, "multiple", False) and "repeatable" not in (getattr(param, "help", None) or "").lower():
        details.append("Repeatable.")
    if param.required:
        details.append("Required.")
    default = param.default
    if type(default).__name__ == "Sentinel":  # click >= 8.3 marks "no default" with a sentinel
        default = None
    if (
        isinstance(param, click.Option)
        and not param.is_flag
        and default not in (None, "", (), [])
        and not callable(default)
        and not param.multiple
    ):
        details.append(f"Default: {default}.")
    envvar = getattr(param, "envvar", None)
    if isinstance(envvar, str) and f"env {envvar}" not in (getattr(param, "help", None) or ""):
        details.append(f"Environment: {envvar}.")
    return details


def option_lines(params: list[click.Parameter]) -> list[str]:
    out: list[str] = []
    for param in params:
        names = list(param.opts) + list(getattr(param, "secondary_opts", []))
        tag = ", ".join(bold(n) for n in names)
        mv = metavar(param)
        if isinstance(param, click.Argument):
            tag = italic(mv)
        elif mv:
            tag += " " + italic(mv)
        help_text = " ".join((getattr(param, "help", None) or "").split())
        text = " ".join(filter(None, [help_text, *option_details(param)]))
        out += [".TP", tag, esc(text) if text else "\\&"]
    return out


def environment_names() -> list[str]:
    """Every variable the package reads: KMSCLI_* names anywhere, and os.environ reads."""
    found = set()
    for path in sorted((ROOT / "kmscli").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found.update(re.findall(r"\bKMSCLI_[A-Z0-9_]+\b", text))
        found.update(re.findall(r"os\.environ(?:\.get\(|\[)\s*\"([A-Z_][A-Z0-9_]*)\"", text))
    found -= ENVIRONMENT_IGNORED
    missing = sorted(found - set(ENVIRONMENT))
    if missing:
        raise SystemExit(f"gen_docs: no sentence for {', '.join(missing)} in ENVIRONMENT (tools/gen_docs.py)")
    kmscli_own = sorted(n for n in ENVIRONMENT if n.startswith("KMSCLI_"))
    return kmscli_own + [n for n in ENVIRONMENT if not n.startswith("KMSCLI_")]


def environment_lines() -> list[str]:
    out = [".SH ENVIRONMENT"]
    for name in environment_names():
        out += [".TP", bold(name), fmt(ENVIRONMENT[name])]
    return out


def exit_status_lines() -> list[str]:
    out = [".SH EXIT STATUS"]
    classes = _error_classes()
    for status, meaning in EXIT_MEANINGS.items():
        names = sorted(c.__name__ for c in classes if c.status == status)
        text = meaning + (" Errors: " + ", ".join(names) + "." if names else "")
        out += [".TP", bold(str(int(status))), esc(text)]
    out += [
        ".TP",
        bold("130"),
        esc("interrupted (Ctrl-C)."),
        ".TP",
        bold("141"),
        esc("the reader of standard output went away (a closed pipe); nothing is printed."),
        ".PP",
        fmt(
            "Errors are one line on standard error, \\fBkmscli: error: \\fIExceptionName\\fB: \\fImessage\\fR, "
            "sometimes followed by a line \\fBkmscli: hint:\\fR naming what to do next. Standard output stays "
            "empty on failure, and a failed command changes nothing on disk."
        ),
    ]
    return out


def _error_classes() -> list[type]:
    seen, stack = [], [errors.KmsError]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen and sub.__module__ == errors.__name__:
                seen.append(sub)
                stack.append(sub)
    return seen


def files_lines() -> list[str]:
    f = keyring_format
    return [
        ".SH FILES",
        ".TP",
        italic("$XDG_DATA_HOME/kmscli/keyring/"),
        esc("The default keyring directory (mode 0700); another one is chosen with --keyring or KMSCLI_KEYRING."),
        ".TP",
        italic(f"KEYRING/{f.KEYRING_FILE}"),
        esc("The keyring: its id, region and account, scrypt parameters, and the master key wrapped under the passphrase."),
        ".TP",
        italic(f"KEYRING/{f.KEYS_DIR}/KEY_ID{f.KEY_FILE_SUFFIX}"),
        esc("One file per KMS key: its metadata in the clear, its key material wrapped under the master key."),
        ".TP",
        italic(f"KEYRING/{f.ALIASES_DIR}/XX{f.KEY_FILE_SUFFIX}"),
        esc("The aliases of the keyring, in sealed buckets by a hash of the name (aliases.toml in keyrings written before; moved at the next write)."),
    ]


def description_lines(paragraphs: list[tuple[bool, str]]) -> list[str]:
    out = [".SH DESCRIPTION"]
    for verbatim, text in paragraphs:
        if verbatim:
            out += [".PP", *preformatted(textwrap.dedent(text))]
        else:
            out += [".PP", esc(" ".join(text.split()))]
    return out


def examples_lines(examples: list[str]) -> list[str]:
    if not examples:
        return []
    out = [".SH EXAMPLES"]
    for example in examples:
        out += [".PP", *preformatted(example)]
    return out


def header(title: str, name_line: str) -> list[str]:
    return [
        f'.\\" Generated by tools/gen_docs.py from the kmscli command tree: do not edit.',
        f'.TH "{title.upper()}" "1" "" "kmscli {__version__}" "kmscli Manual"',
        ".nh",
        ".SH NAME",
        name_line,
    ]


def command_page(name: str, command: click.Command, parent: click.Context) -> str:
    # A context as kmscli gives the command (-h/--help comes from the group's settings).
    ctx = click.Context(command, info_name=name, parent=parent)
    paragraphs, examples = split_help(command.help or "")
    params = visible_params(command, ctx)
    synopsis = [bold(PROG), "[" + italic("GLOBAL OPTIONS") + "]", bold(name)]
    for p in params:
        if isinstance(p, click.Argument):
            synopsis.append(italic(metavar(p)))
        elif p.required:
            synopsis.append(f"{bold(p.opts[0])} {italic(metavar(p))}" if metavar(p) else bold(p.opts[0]))
    if any(isinstance(p, click.Option) and not p.required for p in params):
        synopsis.append("[" + italic("OPTIONS") + "]")
    lines = header(f"{PROG}-{name}", f"{PROG}\\-{esc(name)} \\- {esc(short_help(command))}")
    lines += [".SH SYNOPSIS", ".ad l", " ".join(synopsis), ".ad"]
    lines += description_lines(paragraphs)
    lines += [".SH OPTIONS", *option_lines(params)]
    lines += [
        ".PP",
        fmt(
            "The global options of \\fBkmscli\\fR(1) (\\fB--keyring\\fR, \\fB--passphrase-file\\fR, "
            "\\fB--output\\fR, \\fB--query\\fR, \\fB--cli-binary-format\\fR, \\fB--debug\\fR) apply to this command "
            "too, before or after the command name."
        ),
    ]
    lines += exit_status_lines()
    lines += environment_lines()
    lines += files_lines()
    lines += examples_lines(examples)
    lines += [".SH SEE ALSO", f"{bold(PROG)}(1)"]
    return "\n".join(lines) + "\n"


def main_page(ctx: click.Context) -> str:
    paragraphs, examples = split_help(cli.help or "")
    lines = header(PROG, f"{PROG} \\- {esc(short_help(cli).removeprefix(PROG + ': '))}")
    lines += [
        ".SH SYNOPSIS",
        ".ad l",
        f"{bold(PROG)} [{italic('GLOBAL OPTIONS')}] {italic('COMMAND')} [{italic('OPTIONS')}]",
        ".ad",
    ]
    lines += description_lines(paragraphs)
    lines += [".SH GLOBAL OPTIONS", *option_lines(visible_params(cli, ctx))]
    lines += [".SH COMMANDS"]
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        lines += [".TP", f"{bold(PROG + '-' + name)}(1)", esc(short_help(command) + ".")]
    lines += exit_status_lines()
    lines += environment_lines()
    lines += files_lines()
    lines += examples_lines(examples)
    see_also = [f"{bold(PROG + '-' + n)}(1)" for n in cli.list_commands(ctx)]
    lines += [".SH SEE ALSO", ".ad l", ",\n".join(see_also), ".ad"]  # long names: no justification
    return "\n".join(lines) + "\n"


# --- everything --------------------------------------------------------------------------------


def generate() -> dict[str, str]:
    """{relative path: content} of every generated file."""
    files = {f"completions/{COMPLETION_FILES[shell]}": completion_script(shell) for shell in SHELLS}
    ctx = click.Context(cli, info_name=PROG, **cli.context_settings)
    files[f"man/{PROG}.1"] = main_page(ctx)
    for name in cli.list_commands(ctx):
        files[f"man/{PROG}-{name}.1"] = command_page(name, cli.get_command(ctx, name), ctx)
    return files


GENERATED_DIRS = ("completions", "man")


def drift(root: Path) -> list[str]:
    """Paths under ``root`` that differ from what the code generates (missing, changed or
    left over from a command that no longer exists)."""
    expected = generate()
    problems = []
    for rel, content in expected.items():
        path = root / rel
        if not path.is_file():
            problems.append(f"missing: {rel}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"out of date: {rel}")
    for directory in GENERATED_DIRS:
        for path in sorted((root / directory).glob("*")) if (root / directory).is_dir() else []:
            rel = path.relative_to(root).as_posix()
            if rel not in expected:
                problems.append(f"not generated (stale?): {rel}")
    return problems


def write(root: Path) -> list[str]:
    expected = generate()
    for directory in GENERATED_DIRS:
        (root / directory).mkdir(parents=True, exist_ok=True)
        for path in (root / directory).glob("*"):
            if path.relative_to(root).as_posix() not in expected:
                path.unlink()
    for rel, content in expected.items():
        path = root / rel
        path.write_text(content, encoding="utf-8")
    return sorted(expected)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report files that drifted; exit 1 if any")
    parser.add_argument("--root", type=Path, default=ROOT, help="write under this directory (default: the checkout)")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(args.root)
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print("run: python tools/gen_docs.py", file=sys.stderr)
        return 1 if problems else 0
    for rel in write(args.root):
        print(rel)
    return 0


if __name__ == "__main__":
    os.environ.pop("_KMSCLI_COMPLETE", None)
    sys.exit(main())
