""""Did you mean": what a mistyped command or option was probably meant to be.

Imported only on the way to an error (a command or option that does not exist): a command
that runs never pays for difflib or for this module."""

from __future__ import annotations

import difflib

import click

# aws-cli's global options that kmscli does not have, with the next step instead. Only
# those kmscli still lacks are ever used: an option kmscli has (a global added later,
# such as --output or --debug today) is a real option and never reaches this table.
AWS_CLI_GLOBALS = {
    # --profile, --region, --endpoint-url, --no-verify-ssl, --ca-bundle and the two timeouts
    # are kmscli's own since the endpoint mode (docs/endpoints.md).
    "--no-sign-request": None,
    "--no-paginate": "kmscli lists every page unless given --limit or --marker, as aws-cli does",
    "--page-size": "ask for one page with --limit N, the next with --marker",
    "--max-items": "ask for one page with --limit N, the next with --marker",
    "--starting-token": "ask for the next page with --marker NEXTMARKER",
    "--no-cli-pager": "kmscli never pipes its output through a pager",
    "--color": None,
    "--cli-auto-prompt": None,
    "--no-cli-auto-prompt": None,
    "--cli-input-json": None,
    "--cli-input-yaml": None,
    "--generate-cli-skeleton": None,
}

# Words typed as a command that are options of kmscli itself (`kmscli version`).
_OPTION_WORDS_CUTOFF = 0.8


def _closest(word: str, candidates, *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The candidates ``word`` was most likely meant to be: those about as similar as the
    most similar one (difflib's ratio), so that a clear match is offered alone."""
    candidates = sorted(set(candidates))
    starts = [c for c in candidates if c.startswith(word) and len(word) >= 3]
    if len(starts) == 1:
        # A prefix of exactly one candidate (`list-key` of `list-keys`) is what was meant.
        return starts
    scored = []
    for candidate in candidates:
        matcher = difflib.SequenceMatcher(None, word, candidate)
        if matcher.real_quick_ratio() >= cutoff and matcher.quick_ratio() >= cutoff:
            ratio = matcher.ratio()
            if ratio >= cutoff:
                scored.append((ratio, candidate))
    if not scored:
        return []
    scored.sort(key=lambda rc: (-rc[0], rc[1]))
    best = scored[0][0]
    return [c for ratio, c in scored if ratio >= best - _CLOSE_RATIO_MARGIN][:n]


# How much less similar than the best candidate another may be and still be offered.
_CLOSE_RATIO_MARGIN = 0.08


def _did_you_mean(found: list[str]) -> str:
    if not found:
        return ""
    if len(found) == 1:
        return f" Did you mean '{found[0]}'?"
    return " Did you mean one of: " + ", ".join(f"'{c}'" for c in found) + "?"


def unknown_command(ctx: click.Context, name: str, commands) -> click.UsageError:
    """The error for ``kmscli NAME`` when NAME is no command."""
    # `kmscli version`, `kmscli help`: the group's eager options, typed without their dashes.
    eager = [
        opt
        for param in ctx.command.get_params(ctx)
        if isinstance(param, click.Option) and param.is_eager
        for opt in param.opts
        if opt.startswith("--") and difflib.SequenceMatcher(None, name.lower(), opt[2:]).ratio() >= _OPTION_WORDS_CUTOFF
    ]
    found = eager or _closest(name, commands)
    return click.UsageError(f"No such command '{name}'.{_did_you_mean(found[:3])}", ctx)


def _option_names(command: click.Command) -> set[str]:
    return {
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
    }


def global_option_names(root: click.Command) -> set[str]:
    """The top-level group's options that also work after a command name: all but the eager
    ones (--version, --help), which act alone."""
    return {
        opt
        for param in root.params
        if isinstance(param, click.Option) and not param.is_eager
        for opt in (*param.opts, *param.secondary_opts)
    }


def no_such_option(error: click.NoSuchOption, argv) -> tuple[str, str | None]:
    """(message, hint) for an option that does not exist where it was typed. Suggestions come
    from the command's own options and the global options (those of the top-level group,
    whatever they are), never from one table kept by hand."""
    ctx = error.ctx
    typed = error.option_name
    name = typed.split("=", 1)[0]
    message = f"No such option '{name}'."
    if ctx is None:
        return message, None
    root = ctx.find_root().command
    at_top = ctx.parent is None
    known = _option_names(ctx.command) | ({"--help", "-h"} if at_top else set()) | global_option_names(root)
    if name in AWS_CLI_GLOBALS and name not in known:
        return (
            f"No such option '{name}': it is an aws-cli option that kmscli does not have.",
            AWS_CLI_GLOBALS[name] or f"see kmscli's options with: {ctx.command_path} --help",
        )
    if not at_top and name in known and name not in _option_names(ctx.command):
        # A global option of the group that this command does not take after its name.
        return message, f"{name} is a global option: put it before the command name"
    if at_top and isinstance(root, click.Group):
        # `kmscli --key-id K encrypt`: an option of the command, typed before its name.
        command_name = next((a for a in argv if a in root.list_commands(ctx)), None)
        command = root.get_command(ctx, command_name) if command_name else None
        if command is not None and name in _option_names(command):
            return message, f"{name} is an option of {command_name}: put it after the command name"
    if name.startswith("--"):
        found = _closest(name, (o for o in known if o.startswith("--")))
    else:
        found = _closest(name, known)
    return message + _did_you_mean(found), None


def stdin_carries_data() -> bool:
    """Whether standard input is a pipe, a socket or a regular file: data was probably meant
    for the command (`echo hi | kmscli encrypt ...`). Not a terminal, and not /dev/null (a
    character device, what cron and CI give a command that reads nothing)."""
    import os
    import stat
    import sys

    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISREG(mode)


def piped_hint(file_option: str) -> str | None:
    """The hint for data that is missing while standard input carries some."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and (
        ctx.find_root().meta.get("kmscli.stdin") is not None
        or any(value == "-" for name, value in ctx.params.items() if not name.startswith("out"))
    ):
        return None  # another input of the command reads it (`--in -`; `--out -` is stdout)
    if not stdin_carries_data():
        return None
    return f"standard input is not a terminal: to read the data from it, add {file_option} -"


def stdin_hint(error: click.MissingParameter) -> str | None:
    """A required --in that is missing while data is piped in: say to read it with --in -."""
    param = error.param
    if isinstance(param, click.Option) and "--in" in param.opts:
        return piped_hint("--in")
    return None
