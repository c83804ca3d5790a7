"""The ``kmscli`` command group, and the one place where errors become messages and exit statuses."""

from __future__ import annotations

import importlib
import os
import re
import sys
import types
from pathlib import Path

import click

from .. import __version__
from ..errors import (
    ExitStatus,
    FileAccessException,
    KMSInternalException,
    KmsError,
    ValidationException,
)

BINARY_FORMATS = ["raw-in-base64-out", "base64"]

# CliContext (and with it the keyring store, tomllib and the AEAD) is imported when a command
# runs, not here: `kmscli --version`, `--help` and tab completion never need it.

# name -> "module:function". Commands are imported only when run (or listed for help,
# completion and man pages), so `kmscli --version` pays for none of them.
COMMANDS = {
    "init": "keyring_commands:init",
    "create-key": "key_commands:create_key",
    "describe-key": "key_commands:describe_key",
    "list-keys": "key_commands:list_keys",
    "encrypt": "encryption_commands:encrypt",
    "decrypt": "encryption_commands:decrypt",
    "sign": "signing_commands:sign",
    "verify": "signing_commands:verify",
    "get-public-key": "signing_commands:get_public_key",
    "generate-mac": "mac_commands:generate_mac",
    "verify-mac": "mac_commands:verify_mac",
    "create-alias": "alias_commands:create_alias",
    "update-alias": "alias_commands:update_alias",
    "delete-alias": "alias_commands:delete_alias",
    "list-aliases": "alias_commands:list_aliases",
    "enable-key": "state_commands:enable_key",
    "disable-key": "state_commands:disable_key",
    "schedule-key-deletion": "state_commands:schedule_key_deletion",
    "cancel-key-deletion": "state_commands:cancel_key_deletion",
    "update-key-description": "tag_commands:update_key_description",
    "tag-resource": "tag_commands:tag_resource",
    "untag-resource": "tag_commands:untag_resource",
    "list-resource-tags": "tag_commands:list_resource_tags",
    "enable-key-rotation": "rotation_commands:enable_key_rotation",
    "disable-key-rotation": "rotation_commands:disable_key_rotation",
    "get-key-rotation-status": "rotation_commands:get_key_rotation_status",
    "rotate-key-on-demand": "rotation_commands:rotate_key_on_demand",
    "list-key-rotations": "rotation_commands:list_key_rotations",
    "get-key-policy": "policy_commands:get_key_policy",
    "list-key-policies": "policy_commands:list_key_policies",
    "derive-shared-secret": "agreement_commands:derive_shared_secret",
    "get-parameters-for-import": "import_commands:get_parameters_for_import",
    "import-key-material": "import_commands:import_key_material",
    "delete-imported-key-material": "import_commands:delete_imported_key_material",
    "unlock": "session_commands:unlock",
    "lock": "session_commands:lock",
    "change-passphrase": "session_commands:change_passphrase",
    "rotate-master-key": "session_commands:rotate_master_key",
    "re-encrypt": "envelope_commands:re_encrypt",
    "generate-data-key": "envelope_commands:generate_data_key",
    "generate-data-key-without-plaintext": "envelope_commands:generate_data_key_without_plaintext",
    "generate-data-key-pair": "envelope_commands:generate_data_key_pair",
    "generate-data-key-pair-without-plaintext": "envelope_commands:generate_data_key_pair_without_plaintext",
    "generate-random": "envelope_commands:generate_random",
    "completion": "shell_commands:completion",
    "encrypt-file": "file_commands:encrypt_file",
    "decrypt-file": "file_commands:decrypt_file",
    "create-access-key": "access_key_commands:create_access_key",
    "list-access-keys": "access_key_commands:list_access_keys",
    "delete-access-key": "access_key_commands:delete_access_key",
    "serve": "serve_commands:serve",
}


# Commands that are no AWS operation and work on the keyring itself: refused with
# --endpoint-url (exit status 2). The offline ones (verify --public-key, encrypt-file
# --public-key) and completion need neither and run in both modes.
LOCAL_ONLY = frozenset({
    "init", "unlock", "lock", "change-passphrase", "rotate-master-key",
    "create-access-key", "list-access-keys", "delete-access-key", "serve",
})


class _ReaderGone(Exception):
    """Standard output's reader went away. Carries a BrokenPipeError past click, which would
    otherwise turn it into a silent exit status 1 (our "the answer is no")."""


# U+2011, a hyphen that is no place to break a line: what a hyphen is while help is wrapped.
_UNBREAKABLE_HYPHEN = "\u2011"


class _HelpFormatter(click.HelpFormatter):
    """click's, wrapping at spaces only: its wrapper also breaks after a hyphen, which cut
    command and option names in two ("create-" / "access-key", "--new-passphrase-" / "file")."""

    def _whole_words(self, write, *args, **kwargs):
        start = len(self.buffer)
        write(*args, **kwargs)
        self.buffer[start:] = [part.replace(_UNBREAKABLE_HYPHEN, "-") for part in self.buffer[start:]]

    def write_dl(self, rows, *args, **kwargs):
        rows = [(first, second.replace("-", _UNBREAKABLE_HYPHEN)) for first, second in rows]
        self._whole_words(super().write_dl, rows, *args, **kwargs)

    def write_text(self, text):
        self._whole_words(super().write_text, text.replace("-", _UNBREAKABLE_HYPHEN))


class _Context(click.Context):
    formatter_class = _HelpFormatter


class LazyGroup(click.Group):
    context_class = _Context

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _ReaderGone() from None

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def format_commands(self, ctx, formatter):
        """Each command with its whole summary (its help's first sentence), wrapped: click
        cut them to fit one line ("Protect the keyring with a..."), which says nothing."""
        rows = [(name, self.get_command(ctx, name).get_short_help_str(limit=10_000)) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            # A narrower name column on a narrow terminal: the summaries need the room more
            # (a longer name goes on a line of its own).
            formatter.write_dl(rows, col_max=min(30, formatter.width // 3))

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name not in COMMANDS and not ctx.resilient_parsing and not name.startswith("-"):
            from .suggest import unknown_command  # only on the way to the error

            raise unknown_command(ctx, name, COMMANDS)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        command = getattr(importlib.import_module(f"{__package__}.{module}"), attr)
        _add_global_options(command)
        _check_mode_first(command, name)
        resume_gc()
        return command


def _check_mode_first(command: click.Command, name: str) -> None:
    """Once every option is parsed (global ones may follow the command name), the endpoint
    options are checked against the command before it does anything."""
    if getattr(command, "_kmscli_mode_checked", False) or command.callback is None:
        return
    command._kmscli_mode_checked = True
    callback = command.callback

    def checked(*args, **kwargs):
        from .context import CliContext

        obj = click.get_current_context().find_object(CliContext)
        if obj is not None:
            obj.check_mode(name)
        return callback(*args, **kwargs)

    command.callback = checked


def _not_empty(ctx, param, value):
    """An empty --keyring or --passphrase-file ("$DIR" unset in a script) is a mistake: it
    would have meant the default keyring, the current directory, or no passphrase file,
    depending on where the option stood. (An empty environment variable is unset.)"""
    if value == "":
        raise click.BadParameter("must not be empty", ctx=ctx, param=param)
    return value


def _checked_query(ctx, param, value):
    """A --query that does not parse is refused before the command changes anything."""
    if value and not ctx.resilient_parsing:
        from .render import check_query

        check_query(value)
    return value


def _set_global(attribute):
    def callback(ctx, param, value):
        if attribute in ("keyring_path", "passphrase_file", "endpoint_url", "region", "profile", "ca_bundle"):
            _not_empty(ctx, param, value)
        elif attribute == "query":
            _checked_query(ctx, param, value)
        if value is not None and value is not False:
            if ctx.resilient_parsing:  # tab completion: no CliContext; complete_key_ids reads it
                ctx.meta[f"kmscli.{attribute}"] = value
                return
            from .context import CliContext

            setattr(ctx.find_object(CliContext), attribute, value)
            if attribute == "keyring_path":
                ctx.find_object(CliContext).keyring_path = Path(value)

    return callback


def _add_global_options(command: click.Command) -> None:
    """Global options are accepted after the command name too, as aws-cli accepts them
    (`kmscli create-key --output text`): the later one wins. They are hidden among the
    command's own options, and listed after them in a section of their own."""
    if getattr(command, "_kmscli_globals", False):
        return
    command._kmscli_globals = True
    command.format_options = types.MethodType(_format_options_and_globals, command)
    command.context_class = _Context
    command.params += [
        click.Option(
            ["--keyring"],
            type=click.Path(file_okay=False, dir_okay=True),  # checked as before the command
            expose_value=False,
            callback=_set_global("keyring_path"),
            hidden=True,
        ),
        click.Option(
            ["--passphrase-file"],
            type=click.Path(dir_okay=False, allow_dash=True),
            expose_value=False,
            callback=_set_global("passphrase_file"),
            hidden=True,
        ),
        click.Option(
            ["--output"],
            type=click.Choice(["json", "text", "table"]),
            expose_value=False,
            callback=_set_global("output"),
            hidden=True,
        ),
        click.Option(["--query"], expose_value=False, callback=_set_global("query"), hidden=True),
        click.Option(
            ["--cli-binary-format"],
            type=click.Choice(BINARY_FORMATS),
            expose_value=False,
            callback=_set_global("cli_binary_format"),
            hidden=True,
        ),
        click.Option(["--debug"], is_flag=True, expose_value=False, hidden=True),
    ]
    taken = {opt for param in command.params for opt in getattr(param, "opts", ())}
    command.params += [  # init has its own --region (the keyring's); it keeps it
        click.Option(decls, expose_value=False, callback=_set_global(attribute), hidden=True, **settings)
        for decls, attribute, settings, _ in _ENDPOINT_OPTIONS
        if not taken.intersection(decls)
    ]
    command.shell_complete = _completing_globals_too(command, command.shell_complete)


def _completing_globals_too(command: click.Command, complete_own):
    """Tab completion of a command's options, and of the global options it takes after its
    name once a letter is typed (`kmscli encrypt --ou<Tab>`: --out and --output). A bare
    `--<Tab>` lists the command's own options only: the global ones would bury them."""

    def shell_complete(ctx, incomplete):
        items = complete_own(ctx, incomplete)
        if not incomplete.startswith("--") or len(incomplete) < 3:
            return items
        from click.core import ParameterSource
        from click.shell_completion import CompletionItem

        # The group's own options (whatever they are) give the help; the command's hidden
        # copies of them say which it takes after its name.
        helps = {opt: p.help for p in ctx.find_root().command.params if isinstance(p, click.Option) for opt in p.opts}
        offered = {item.value for item in items}
        for param in command.params:
            if not (isinstance(param, click.Option) and param.hidden and set(param.opts) <= helps.keys()):
                continue
            if ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
                continue
            for opt in param.opts:
                if opt.startswith(incomplete) and opt not in offered:
                    items.append(CompletionItem(opt, help=helps[opt]))
        return items

    return shell_complete


def _format_options_and_globals(command, ctx, formatter) -> None:
    """A command's help: its options, then the global options that apply to it too, each
    with the first clause of its help (the whole is in `kmscli --help`)."""
    click.Command.format_options(command, ctx, formatter)
    rows = []
    for param in cli.params:
        record = param.get_help_record(ctx) if param.name not in ("version", "help") else None
        if record is not None:
            rows.append((record[0], re.split(r" \[|: |\. ", record[1] + " ", maxsplit=1)[0].rstrip(". ")))
    with formatter.section("Global options (before or after the command name; see kmscli --help)"):
        formatter.write_dl(rows)


# The endpoint mode's options, as aws-cli names them, declared once for both places they are
# taken (before the command name: the group's, shown in `kmscli --help`; after it: each
# command's hidden copy, _add_global_options): (declarations, CliContext attribute, click
# settings of both, settings of the group's only).
_ENDPOINT_OPTIONS = [
    (["--endpoint-url"], "endpoint_url", {"metavar": "URL"}, {
        "envvar": "KMSCLI_ENDPOINT_URL",
        "callback": _not_empty,
        "help": "Run every KMS operation against this KMS endpoint instead of the keyring: AWS KMS "
        "(aws: the endpoint of the resolved Region), LocalStack, moto or a kmscli serve "
        "[env KMSCLI_ENDPOINT_URL]. See docs/endpoints.md.",
    }),
    (["--region"], "region", {"metavar": "REGION"}, {
        "callback": _not_empty,
        "help": "With --endpoint-url: the Region [default: as aws-cli resolves it, AWS_REGION, the profile].",
    }),
    (["--profile"], "profile", {"metavar": "PROFILE"}, {
        "callback": _not_empty,
        "help": "With --endpoint-url: the profile of AWS's shared config and credentials files [env AWS_PROFILE].",
    }),
    (["--cli-connect-timeout"], "connect_timeout", {"type": click.FloatRange(min=0), "metavar": "SECONDS"}, {
        "help": "With --endpoint-url: as aws-cli, the connect timeout (0: none) [default 60].",
    }),
    (["--cli-read-timeout"], "read_timeout", {"type": click.FloatRange(min=0), "metavar": "SECONDS"}, {
        "help": "With --endpoint-url: as aws-cli, the read timeout (0: none) [default 60].",
    }),
    (["--no-verify-ssl"], "no_verify_ssl", {"is_flag": True, "default": None}, {
        "help": "With --endpoint-url: do not verify the endpoint's TLS certificate (as aws-cli).",
    }),
    (["--ca-bundle"], "ca_bundle", {"type": click.Path(dir_okay=False), "metavar": "FILE"}, {
        "callback": _not_empty,
        "help": "With --endpoint-url: the CA certificates to verify the endpoint with [env AWS_CA_BUNDLE].",
    }),
]


def _endpoint_group_options(f):
    """The group's endpoint options, in the table's order (click lists decorators' options
    top first: applied here from the last, as stacked decorators would be)."""
    for decls, attribute, settings, group_settings in reversed(_ENDPOINT_OPTIONS):
        f = click.option(*decls, attribute, **settings, **group_settings)(f)
    return f


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="kmscli", message="%(prog)s %(version)s")
@click.option(
    "--keyring",
    "keyring_path",
    envvar="KMSCLI_KEYRING",
    type=click.Path(file_okay=False, dir_okay=True),
    callback=_not_empty,
    help="Keyring directory [env KMSCLI_KEYRING; default $XDG_DATA_HOME/kmscli/keyring].",
)
@click.option(
    "--passphrase-file",
    envvar="KMSCLI_PASSPHRASE_FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    callback=_not_empty,
    help="Read the passphrase from the first line of FILE [env KMSCLI_PASSPHRASE_FILE].",
)
@click.option(
    "--output",
    "output",
    envvar="KMSCLI_OUTPUT",
    type=click.Choice(["json", "text", "table"]),
    default="json",
    show_default=True,
    help="How results are printed [env KMSCLI_OUTPUT].",
)
@click.option("--query", metavar="JMESPATH", callback=_checked_query, help="Print only this part of the result: a JMESPath expression, as aws-cli, e.g. KeyMetadata.KeyId, Keys[*].KeyId, Aliases[?TargetKeyId=='ID'].AliasName.")
@click.option(
    "--cli-binary-format",
    type=click.Choice(BINARY_FORMATS),
    default="raw-in-base64-out",
    show_default=True,
    help="How --plaintext and --message are read, as aws-cli v2: raw-in-base64-out reads them as text (UTF-8) and "
    "file:// as raw bytes; base64 reads them, and file:// contents, as base64.",
)
@_endpoint_group_options
@click.option("--debug", is_flag=True, envvar="KMSCLI_DEBUG", help="Show a traceback on errors.")
@click.pass_context
def cli(ctx, keyring_path, passphrase_file, output, query, cli_binary_format, debug, **endpoint):
    """kmscli: AWS KMS semantics, offline.

    A keyring directory on disk holds KMS keys whose material is wrapped under a master key
    derived from your passphrase. Every command is named, takes options and prints results
    as `aws kms` does.

    \b
    Passphrase sources, in order: a session (KMSCLI_SESSION), --passphrase-file,
    KMSCLI_PASSPHRASE, then a hidden prompt when standard input is a terminal.

    \b
    Exit status: 0 success, 1 a signature or MAC did not verify, 2 bad input,
    3 the operation was refused (no such key, or no keyring: run init),
    4 the keyring is locked or the passphrase is wrong,
    5 the keyring is damaged or a file could not be read or written,
    6 a KMS endpoint could not be reached, refused the credentials or did not serve,
    130 interrupted, 141 the reader of standard output went away.

    With --endpoint-url URL (or KMSCLI_ENDPOINT_URL) every KMS operation runs against a KMS
    endpoint instead of the keyring (--endpoint-url aws: AWS KMS), with AWS's credentials;
    see docs/endpoints.md.

    Global options may also follow the command name, as with aws-cli.

    \b
    Example:
      export KMSCLI_PASSPHRASE_FILE=~/.config/kmscli/passphrase
      kmscli init
      kmscli create-key --description backups
    """
    from .context import CliContext

    ctx.obj = CliContext(keyring_path, passphrase_file, output, query)
    ctx.obj.cli_binary_format = cli_binary_format
    for attribute, value in endpoint.items():  # the table's attribute names (_ENDPOINT_OPTIONS)
        setattr(ctx.obj, attribute, value)
    ctx.obj.no_verify_ssl = bool(ctx.obj.no_verify_ssl)


# The next step for an error the core raised without a hint of its own. "{command}" is the
# command that failed. "The answer is no" (exit status 1) needs none.
_FALLBACK_HINTS = {
    "ValidationException": "see the valid values with: kmscli {command} --help",
    "InvalidAliasNameException": "see the rules with: kmscli {command} --help",
    "InvalidMarkerException": "pass the NextMarker of the previous page, or no --marker",
    "TagException": "choose a tag key that does not begin with aws:",
    "InvalidKeyUsageException": "see the key's usage and algorithms with: kmscli describe-key --key-id KEY",
    "KMSInvalidStateException": "see the key's state with: kmscli describe-key --key-id KEY",
    "NotFoundException": "list the keys with: kmscli list-keys",
    "IncorrectKeyException": "see which key a ciphertext names by omitting --key-id",
    "UnsupportedOperationException": "see what each key spec supports in: kmscli create-key --help",
    "LimitExceededException": "see AWS's limits in: kmscli {command} --help",
    "AlreadyExistsException": "choose another name, or update the existing one",
    "KeyringDamagedException": "restore the keyring from a backup; see docs/security.md",
    "FileAccessException": "check the path and its permissions",
    "KMSInternalException": "run again with --debug and report it",
}


def _command_of(argv) -> str:
    return next((a for a in argv if a in COMMANDS), "COMMAND")


def _last_value(argv, option: str) -> str | None:
    """The value of ``option`` on the command line (``--opt V`` or ``--opt=V``): the last
    one, as click takes the last of a repeated option."""
    argv = list(argv)
    value = None
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(option + "="):
            value = arg.split("=", 1)[1]
    return value


def _key_of(argv) -> str:
    """The --key-id the user gave (shell-quoted when needed), for a hint to name it."""
    import shlex

    given = _last_value(argv, "--key-id")
    return "KEY" if given is None else shlex.quote(given)


def _endpoint_of(argv) -> str | None:
    """The --endpoint-url of this run (the last one given, else KMSCLI_ENDPOINT_URL)."""
    return _last_value(argv, "--endpoint-url") or os.environ.get("KMSCLI_ENDPOINT_URL") or None


# An error line names what it was given (a path, a value); one given 100 KB must not echo it.
ERROR_LINE_MAX = 1000


def _one_line(text: str) -> str:
    """One line, controls escaped (a file or alias name must not drive the terminal), bounded."""
    from .safe_text import escape

    text = escape(" ".join(str(text).split()))
    if len(text) > ERROR_LINE_MAX:
        text = text[: ERROR_LINE_MAX // 2] + " [...] " + text[-ERROR_LINE_MAX // 4 :]
    return text


def _print_error(error: KmsError, argv=()) -> None:
    message = _one_line(error.message)
    click.echo(f"kmscli: error: {error.name}: {message}", err=True)
    hint = error.hint
    if hint is None and error.status != ExitStatus.NO:
        hint = _FALLBACK_HINTS.get(error.name, "").format(command=_command_of(argv)) or None
        if hint and "--key-id KEY" in hint:
            key = _key_of(argv)
            if key == "KEY" and any(a == "--public-key" or a.startswith("--public-key=") for a in argv):
                # Offline (verify / encrypt-file --public-key): there may be no keyring to ask.
                hint = "see the key's usage and algorithms in the text before BEGIN in the --public-key file"
            else:
                hint = hint.replace("--key-id KEY", f"--key-id {key}")
        endpoint = _endpoint_of(argv)
        if hint and endpoint and "kmscli " in hint and "--help" not in hint:
            import shlex  # the next command goes to the same endpoint

            hint = hint.replace("kmscli ", f"kmscli --endpoint-url {shlex.quote(endpoint)} ", 1)
    if hint:
        click.echo(f"kmscli: hint: {_one_line(hint)}", err=True)


def _debugging(argv) -> bool:
    return "--debug" in argv or os.environ.get("KMSCLI_DEBUG", "") not in ("", "0", "false")


def main(argv=None) -> int:
    """Run the CLI; returns the exit status. Every exception is turned into one here."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        cli.main(args=argv, prog_name="kmscli", standalone_mode=False)
        return ExitStatus.OK
    except KmsError as e:
        if _debugging(argv):
            raise
        _print_error(e, argv)
        return e.status
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("kmscli: error: aborted", err=True)
        return 130
    except click.UsageError as e:
        if _debugging(argv):
            raise
        if type(e).__name__ == "NoArgsIsHelpError":
            # `kmscli` alone: click (8.2+) makes the whole help its error message, which
            # became one enormous error line. aws-cli says a command is required.
            _print_error(ValidationException("no command given", hint="see the commands with: kmscli --help"))
            return ExitStatus.USAGE
        message, hint = e.format_message(), None
        if isinstance(e, click.NoSuchOption):
            from .suggest import no_such_option  # only on the way to the error

            message, hint = no_such_option(e, argv)
        elif isinstance(e, click.MissingParameter):
            from .suggest import stdin_hint

            hint = stdin_hint(e)
        # click attaches no context to some parse errors ("Option '--key-id' requires an
        # argument."): the command is then read from argv, so the hint never says COMMAND.
        if hint is None and e.ctx is not None and e.ctx.command_path:
            hint = f"run: {e.ctx.command_path} --help"
        elif hint is None:
            command = _command_of(argv)
            hint = f"run: kmscli {command} --help" if command != "COMMAND" else "run: kmscli --help"
        _print_error(ValidationException(message, hint=hint))
        return ExitStatus.USAGE
    except click.ClickException as e:
        _print_error(ValidationException(e.format_message()), argv)
        return ExitStatus.USAGE
    except UnicodeEncodeError as e:
        # Bytes that are not UTF-8 on the command line (`--plaintext $'\xff'`) reach us as
        # lone surrogates, and fail where a value is encoded: bad input, not a bug. Paths
        # are not affected: the os module encodes them back to the bytes that were typed.
        if _debugging(argv):
            raise
        if "surrogates not allowed" not in str(e):
            return _internal_error(e)
        _print_error(
            ValidationException(
                "a value on the command line is not valid UTF-8 text",
                hint="give raw bytes in a file: --in FILE, or fileb://PATH where the option takes a blob",
            )
        )
        return ExitStatus.USAGE
    except (BrokenPipeError, _ReaderGone):
        # The reader went away (`kmscli list-keys | head -1`): end quietly, as C tools do.
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        return 130
    except OSError as e:
        if _debugging(argv):
            raise
        _print_error(FileAccessException(f"{e.strerror or e}" + (f": {e.filename}" if e.filename else "")), argv)
        return ExitStatus.DAMAGED
    except Exception as e:  # noqa: BLE001 - the last line of defence: never a traceback
        if _debugging(argv):
            raise
        return _internal_error(e)


def _internal_error(e: Exception) -> int:
    _print_error(
        KMSInternalException(f"internal error ({type(e).__name__})", hint="run again with --debug and report it")
    )
    return ExitStatus.DAMAGED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


# Whether run() paused the cyclic GC for start-up (kmscli/__main__.py says why).
_gc_paused = False


def resume_gc() -> None:
    """Start-up is over (the command is imported and built): the GC runs again, over what
    is made from now on; what start-up made is frozen (it lives until exit anyway)."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        import gc

        gc.freeze()
        gc.enable()


def entry_point(*, gc_paused: bool = False) -> None:
    global _gc_paused
    _gc_paused = gc_paused
    try:
        status = main()
    finally:
        resume_gc()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        status = 141
    sys.exit(int(status))
