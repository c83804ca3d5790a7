"""Options shared by several commands, as decorators (the sqlite-utils habit)."""

from __future__ import annotations

import json
import os

import click

from .. import specs
from ..errors import ValidationException


FILE = "file://"
FILEB = "fileb://"
# A text or JSON value read from a file (a policy, a tag list, a context) is small.
TEXT_FILE_MAX = 1 << 20


def read_text_argument(value, option: str):
    """aws-cli's file://PATH (and fileb://PATH) for a text or structure value: the file's
    contents, as text. Never the literal "file://PATH" itself."""
    if isinstance(value, tuple):
        return tuple(read_text_argument(v, option) for v in value)
    if not isinstance(value, str) or not value.startswith((FILE, FILEB)):
        return value
    from .io import read_source

    path = value[len(FILEB) :] if value.startswith(FILEB) else value[len(FILE) :]
    data = read_source(path, TEXT_FILE_MAX, f"the {option} file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationException(f"the {option} file {path} is not UTF-8 text") from None


def text_value(ctx, param, value):
    """click callback: file://PATH on a text option is the file's contents."""
    return read_text_argument(value, param.opts[0])


class ListOption(click.Option):
    """An option that takes a list as aws-cli does: several values after one occurrence
    (`--grant-tokens a b`, `--tags TagKey=a,TagValue=1 TagKey=b,TagValue=2`, aws-cli's
    nargs '+'), and also one value per occurrence, repeated. The values after the option run
    to the next word that starts with '-'; kmscli's commands take no positional arguments, so
    no word is taken from anything else."""

    def __init__(self, *args, **kwargs):
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser, ctx) -> None:
        super().add_to_parser(parser, ctx)
        # click's parser has no nargs '+': each occurrence's handler is extended to take the
        # words that follow it too. Should a click release rename the handler table, the
        # option still works, one value per occurrence.
        handlers = getattr(parser, "_long_opt", {})
        for opt in self.opts:
            handler = handlers.get(opt)
            if handler is None or not callable(getattr(handler, "process", None)):
                continue
            one = handler.process

            def process(value, state, one=one):
                one(value, state)
                while state.rargs and not state.rargs[0].startswith("-"):
                    one(state.rargs.pop(0), state)

            handler.process = process


def key_id_option(
    required: bool = True, name: str = "--key-id", help_: str | None = None, dest: str = "key_id"
):
    return click.option(
        name,
        dest,
        required=required,
        metavar="KEY",
        help=help_ or "Key id, key ARN, alias name (alias/NAME) or alias ARN (or file://PATH holding it).",
        shell_complete=complete_key_ids,
        # aws-cli reads file://PATH for every string parameter, ids included.
        callback=text_value,
    )


# At most this many key ids are offered for one Tab; beyond it, the next hex digits that
# continue the typed prefix are offered instead, so that a keyring of 100,000 keys completes
# as fast as one of ten and the shell never has to print 100,000 candidates.
COMPLETION_MAX = 100
_ID_CHARS = frozenset("0123456789abcdef-")


def complete_key_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Tab completion of key ids and alias names, read from the keyring's clear metadata:
    only the keys the command can use (completion_filters) and the aliases of those keys.

    Runs while the user presses Tab, so it must never ask for a passphrase, print or raise:
    any problem (no keyring, a damaged file) just means no candidates."""
    from click.shell_completion import CompletionItem

    try:
        if _completing_for_an_endpoint(ctx):
            # The keys live at the endpoint: asking it would put the network, credentials
            # and their delays into a Tab press. Nothing is offered (docs/endpoints.md).
            return []
        from ..keyring import Keyring
        from .completion_filters import for_command

        keyring = Keyring.open(_completion_keyring_path(ctx))  # no unlocker: it cannot prompt
        wanted = for_command(ctx.command.name if ctx is not None and ctx.command else None)
        metadata: dict = {}

        def meta(key_id: str) -> dict | None:
            if key_id not in metadata:
                metadata[key_id] = _key_metadata(keyring, key_id)
            return metadata[key_id]

        def fits(key_id: str) -> bool:
            # A key whose file cannot be read is offered (without a summary): the command
            # itself will say what is wrong with it.
            found = meta(key_id) if wanted is not None else None
            return found is None or wanted(found)

        items = []
        if "alias/".startswith(incomplete) or incomplete.startswith("alias/"):
            # The names from the typed prefix on, from the alias index (a chunk or two), and
            # of those only the aliases of keys the command can use (at most COMPLETION_MAX
            # metadata reads).
            start = incomplete if incomplete.startswith("alias/") else "alias/"
            for name, target, _, _ in keyring.alias_rows_from(start, COMPLETION_MAX):
                if not name.startswith(incomplete):
                    break
                if isinstance(target, str) and _ID_CHARS.issuperset(target) and not fits(target):
                    continue
                items.append(CompletionItem(name, help=f"alias of {target}" if target else None))
        ids, more = key_id_candidates(keyring, incomplete)
        if more:
            items += [CompletionItem(prefix, help="more keys: type more of the id") for prefix in ids]
        else:
            items += [CompletionItem(key_id, help=_key_summary(meta(key_id))) for key_id in ids if fits(key_id)]
        return items
    except Exception:  # noqa: BLE001 - completion shows nothing rather than an error
        return []


def complete_access_key_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Tab completion of the keyring's access key ids (never a secret: the ids and creation
    dates are in the clear). Like complete_key_ids: no passphrase, no output, no error."""
    from click.shell_completion import CompletionItem

    try:
        from ..keyring import Keyring

        keyring = Keyring.open(_completion_keyring_path(ctx))
        return [
            CompletionItem(akid, help=f"created {entry.get('CreateDate')}")
            for akid, entry in sorted(keyring.load_access_keys().items())
            if akid.startswith(incomplete)
        ]
    except Exception:  # noqa: BLE001 - completion shows nothing rather than an error
        return []


def key_id_candidates(keyring, prefix: str, limit: int = COMPLETION_MAX) -> tuple[list[str], bool]:
    """(key ids starting with ``prefix``, False) when there are at most ``limit``; else
    (the longer prefixes that continue it, True), at least two of them, so the shell lists
    them rather than completing one. Reads the index: a file or two per prefix, whatever the
    number of keys (a filter on the keys' metadata belongs after this, on at most ``limit``)."""
    if not _ID_CHARS.issuperset(prefix) or len(prefix) >= 36:
        return ([prefix] if len(prefix) == 36 and keyring.key_ids_from(prefix, 1) == [prefix] else []), False
    ids = [k for k in keyring.key_ids_from(prefix, limit + 1) if k.startswith(prefix)]
    if len(ids) <= limit:
        return ids, False
    while True:
        # The next character of an id after a prefix: a hex digit, or the dash of a UUID.
        nexts = "-" if len(prefix) in (8, 13, 18, 23) else "0123456789abcdef"
        groups = [prefix + c for c in nexts if any(k.startswith(prefix + c) for k in keyring.key_ids_from(prefix + c, 1))]
        if len(groups) != 1:
            return groups, True
        prefix = groups[0]


def _completing_for_an_endpoint(ctx: click.Context) -> bool:
    """--endpoint-url typed so far (before or after the command name), or KMSCLI_ENDPOINT_URL."""
    typed = ctx is not None and (ctx.meta.get("kmscli.endpoint_url") or ctx.find_root().params.get("endpoint_url"))
    return bool(typed or os.environ.get("KMSCLI_ENDPOINT_URL"))


def _completion_keyring_path(ctx: click.Context):
    """--keyring as typed so far (before or after the command name), else KMSCLI_KEYRING,
    else the default: the same keyring the completed command will use."""
    from pathlib import Path

    from ..keyring import default_keyring_path

    typed = ctx.meta.get("kmscli.keyring_path") or ctx.find_root().params.get("keyring_path")
    # The words arrive as typed: the shell has not expanded "~" yet, as it will when run.
    return Path(os.path.expanduser(typed)) if typed else default_keyring_path()


def _key_metadata(keyring, key_id: str) -> dict | None:
    try:
        meta = keyring.load_key(key_id, verify=False)["metadata"]
    except Exception:  # noqa: BLE001 - a damaged key still completes, without a summary
        return None
    return meta if isinstance(meta, dict) else None


def _key_summary(meta: dict | None) -> str | None:
    if meta is None:
        return None
    return " ".join(str(meta.get(k) or "") for k in ("KeySpec", "KeyState", "Description")).strip() or None


def in_option(help_: str = "Read the input from FILE (- for standard input)."):
    return click.option("--in", "in_path", metavar="FILE", help=help_)


def checked_output(ctx, param, value):
    """A named output that is a FIFO, device or socket is refused while the options are
    read, before any passphrase is asked for or secret made (and again before the rename)."""
    if value is not None and value != "-" and not ctx.resilient_parsing:
        from .stream_io import check_output_path

        check_output_path(value, param.opts[0])
    return value


def out_option(what: str):
    return click.option(
        "--out",
        "out_path",
        metavar="FILE",
        callback=checked_output,
        help=f"Write the raw {what} to FILE, a new regular file (- for standard output: then nothing else is printed).",
    )


def encryption_context_option(name: str = "--encryption-context", dest: str = "encryption_context"):
    return click.option(
        name,
        dest,
        multiple=True,
        metavar="KEY=VALUE",
        help="Encryption context pair (repeatable; K=V,K2=V2 as aws-cli writes it), or one JSON object, or file://PATH holding it.",
    )


def _split_pairs(value: str, shorthand: bool) -> list[tuple[str, str]]:
    """KEY=VALUE split at the first '='. With ``shorthand``, aws-cli's map shorthand too:
    ``k=v,k2=v2`` is two pairs when every comma-separated part holds an '=' (aws-cli reads it
    so; taking it as the one value 'v,k2=v2' would silently bind another context). A value
    with a comma and no further '=' (``list=a,b``) stays one value; JSON takes any value."""
    parts = value.split(",")
    if shorthand and len(parts) > 1 and all("=" in part for part in parts):
        return [tuple(part.split("=", 1)) for part in parts]
    return [tuple(value.split("=", 1))]


def parse_pairs(values: tuple[str, ...], what: str, *, shorthand: bool = True) -> dict[str, str]:
    """KEY=VALUE pairs (aws-cli's K=V,K2=V2 shorthand too, unless ``shorthand`` is False),
    or a single JSON object of strings."""
    result: dict[str, str] = {}
    for value in read_text_argument(tuple(values), what):
        if value.lstrip().startswith("{"):
            try:
                obj = json.loads(value)
            except json.JSONDecodeError:
                raise ValidationException(f"{what} is not a valid JSON object") from None
            except RecursionError:  # json recurses per level: a hostile nesting is bad input
                raise ValidationException(f"{what} is nested too deeply to be a JSON object of strings") from None
            if not isinstance(obj, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
            ):
                raise ValidationException(f"{what} must be a JSON object of strings")
            pairs = list(obj.items())
        else:
            if "=" not in value:
                raise ValidationException(f"{what} {value!r} is not KEY=VALUE")
            pairs = _split_pairs(value, shorthand)
        for key, val in pairs:
            if key in result:
                raise ValidationException(f"{what} names {key!r} twice")
            result[key] = val
    return result


class KmsChoice(click.Choice):
    """click's Choice, whose refusal also says which valid name was probably meant
    (`rsa_2048` or `RSA2048` → RSA_2048): AWS's names are long and easy to mistype."""

    def fail(self, message, param=None, ctx=None):
        value = getattr(self, "_kmscli_value", None)
        suggestion = _closest(value, self.choices) if isinstance(value, str) else None
        if suggestion:
            message = f"{message} Did you mean {suggestion}?"
        super().fail(message, param, ctx)

    def convert(self, value, param, ctx):
        self._kmscli_value = value
        return super().convert(value, param, ctx)


def _closest(value: str, choices) -> str | None:
    def squeeze(text: str) -> str:
        return text.upper().replace("_", "").replace("-", "")

    same = [c for c in choices if squeeze(c) == squeeze(value)]
    if same:
        return same[0]
    import difflib

    near = difflib.get_close_matches(value.upper(), list(choices), n=1, cutoff=0.75)
    return near[0] if near else None


def choice(values) -> click.Choice:
    return KmsChoice(list(values), case_sensitive=True)


signing_algorithm_choice = choice(specs.SIGNING_ALGORITHMS)
message_type_choice = choice(specs.MESSAGE_TYPES)
