"""Options shared by several commands, as decorators (the sqlite-utils habit)."""

from __future__ import annotations

import json

import click

from .. import specs
from ..errors import ValidationException


def key_id_option(required: bool = True, name: str = "--key-id", help_: str | None = None):
    return click.option(
        name,
        "key_id",
        required=required,
        metavar="KEY",
        help=help_ or "Key id, key ARN, alias name (alias/NAME) or alias ARN.",
    )


def in_option(help_: str = "Read the input from FILE (- for standard input)."):
    return click.option("--in", "in_path", metavar="FILE", help=help_)


def out_option(what: str):
    return click.option(
        "--out",
        "out_path",
        metavar="FILE",
        help=f"Write the raw {what} to FILE (- for standard output: then nothing else is printed).",
    )


def encryption_context_option(name: str = "--encryption-context", dest: str = "encryption_context"):
    return click.option(
        name,
        dest,
        multiple=True,
        metavar="KEY=VALUE",
        help="Encryption context pair (repeatable), or one JSON object.",
    )


def parse_pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    """KEY=VALUE pairs split at the first '=', or a single JSON object of strings."""
    result: dict[str, str] = {}
    for value in values:
        if value.lstrip().startswith("{"):
            try:
                obj = json.loads(value)
            except json.JSONDecodeError:
                raise ValidationException(f"{what} is not a valid JSON object") from None
            if not isinstance(obj, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
            ):
                raise ValidationException(f"{what} must be a JSON object of strings")
            pairs = list(obj.items())
        else:
            if "=" not in value:
                raise ValidationException(f"{what} {value!r} is not KEY=VALUE")
            pairs = [tuple(value.split("=", 1))]
        for key, val in pairs:
            if key in result:
                raise ValidationException(f"{what} names {key!r} twice")
            result[key] = val
    return result


def choice(values) -> click.Choice:
    return click.Choice(list(values), case_sensitive=True)


signing_algorithm_choice = choice(specs.SIGNING_ALGORITHMS)
message_type_choice = choice(specs.MESSAGE_TYPES)
