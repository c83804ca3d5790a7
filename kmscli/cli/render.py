"""The one place that decides how a result looks: json (as aws), text (as aws), or table.

Results arrive as plain data from the service; bytes are printed base64, as the AWS CLI
prints blobs. rich is imported only when a table is really drawn."""

from __future__ import annotations

import json
import os
import re
import sys
from contextlib import contextmanager

import click

from ..encoding import b64encode
from ..errors import ValidationException
from .safe_text import escape, escape_json

# The paths scripts use most, read here without importing jmespath (start-up matters in shell
# loops): JMESPath identifiers, [N] indexes and [*] projections, joined by dots. [0-9], not
# \d: \d takes any Unicode digit (Keys[\u0663]), which jmespath refuses.
_SIMPLE_QUERY = r"[A-Za-z_][A-Za-z0-9_]*(?:\[-?[0-9]+\]|\[\*\])*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[-?[0-9]+\]|\[\*\])*)*"
_QUERY_PART = r"([A-Za-z_][A-Za-z0-9_]*)|\[(-?[0-9]+)\]|\[\*\]"


def printable(value):
    """The result with every bytes value as base64 text (the AWS CLI's blob rendering)."""
    if isinstance(value, bytes):
        return b64encode(value)
    if isinstance(value, dict):
        if all(type(v) is str for v in value.values()):
            return value  # a listing's row: nothing to convert (100,000 of them in list-keys)
        return {k: printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable(v) for v in value]
    return value


def dumps_indented(value) -> str:
    """``json.dumps(value, indent=4, ensure_ascii=False)``, as aws-cli prints, byte for byte.

    With an indent, the json module encodes in Python, one generator step per token: 2 s
    for the 100,000 entries of list-keys. Here only the walk is Python; every string goes
    through the module's C quoting. Anything but plain data (str keys; str, int, float,
    bool, None, dict, list values) is handed to json.dumps itself."""
    from json.encoder import encode_basestring as quote  # the C one when available

    parts: list[str] = []
    add = parts.append

    def walk(v, pad: str) -> None:
        if type(v) is dict and v and all(type(k) is str and type(x) is str for k, x in v.items()):
            # A row of strings (a listing's entry, 100,000 of them in list-keys): one join.
            inner = pad + "    "
            add("{\n" + inner + (",\n" + inner).join([quote(k) + ": " + quote(x) for k, x in v.items()]) + "\n" + pad + "}")
        elif isinstance(v, str):
            add(quote(v))
        elif v is True:
            add("true")
        elif v is False:
            add("false")
        elif v is None:
            add("null")
        elif type(v) is int:
            add(int.__repr__(v))
        elif isinstance(v, dict):
            if not v:
                add("{}")
                return
            inner = pad + "    "
            add("{\n" + inner)
            first = True
            for k, x in v.items():
                if type(k) is not str:
                    raise TypeError(k)
                if not first:
                    add(",\n" + inner)
                first = False
                add(quote(k))
                add(": ")
                walk(x, inner)
            add("\n" + pad + "}")
        elif isinstance(v, (list, tuple)):
            if not v:
                add("[]")
                return
            inner = pad + "    "
            add("[\n" + inner)
            for i, x in enumerate(v):
                if i:
                    add(",\n" + inner)
                walk(x, inner)
            add("\n" + pad + "]")
        else:
            raise TypeError(v)  # floats (nan, inf spellings), subclasses: json's own rules

    try:
        walk(value, "")
    except TypeError:
        return json.dumps(value, indent=4, ensure_ascii=False)
    return "".join(parts)


def apply_query(value, query: str | None):
    """JMESPath, as aws-cli's --query. A plain path (``KeyMetadata.KeyId``, ``Keys[0].KeyId``,
    ``Keys[*].KeyId``) is walked here; anything else (filters, multi-selects, functions) goes
    to the jmespath library, imported only then. tests/test_query.py holds the two to the
    same answers."""
    if not query:
        return value
    if re.fullmatch(_SIMPLE_QUERY, query):
        return _walk(value, _query_steps(query))
    return _jmespath_search(value, query)


def check_query(query: str | None) -> None:
    """Refuse a --query that does not parse, before the command runs: found only when the
    result is printed, it would fail a command that had already changed the keyring."""
    if query and not re.fullmatch(_SIMPLE_QUERY, query):
        compiled = _jmespath_call("compile", query)
        # The parser builds some deep trees without recursing (`a||a||...`, 10,000 deep),
        # which the interpreter then walks recursively: refused only after the command ran,
        # it left a key made whose id was never printed. No real query nears this depth.
        depth = _ast_depth(compiled.parsed)
        if depth > QUERY_MAX_DEPTH:
            raise ValidationException(f"--query is nested too deeply ({depth} levels; at most {QUERY_MAX_DEPTH})")


QUERY_MAX_DEPTH = 100


def _ast_depth(node) -> int:
    """The depth of a jmespath syntax tree, counted without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in current.get("children", ()) if isinstance(current, dict) else ():
            if isinstance(child, dict):
                stack.append((child, depth + 1))
    return deepest


def _jmespath_search(value, query: str):
    # The query parsed (check_query ran before the command); what fails now is applying it
    # (a function given the wrong type or count of arguments, an unknown function), after
    # the command was carried out: the message must not say that nothing happened.
    return _jmespath_call("search", query, value)


def _jmespath_call(function: str, query: str, *args):
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return getattr(jmespath, function)(query, *args)
    except RecursionError:
        # jmespath's parser and interpreter recurse per nesting level.
        if function == "compile":
            raise ValidationException(f"--query is nested too deeply ({len(query)} characters)") from None
        raise ValidationException(
            "--query is nested too deeply to be applied to the result",
            hint="the command itself was carried out; only its result was not printed",
        ) from None
    except JMESPathError as e:
        # The library's message goes on to draw the expression with a caret under the fault.
        reason = str(e).splitlines()[0].removesuffix(", for expression:").rstrip(": ")
        if function == "compile":
            raise ValidationException(
                f"--query {query!r} is not a valid JMESPath expression: {reason}",
                hint="--query takes JMESPath as aws-cli does (https://jmespath.org), e.g. Keys[*].KeyId",
            ) from None
        raise ValidationException(
            f"--query {query!r} could not be applied to the result: {reason}",
            hint="the command itself was carried out; only its result was not printed",
        ) from None


def _query_steps(query: str) -> list:
    """("field", name), ("index", N) or ("each", None) per step of a simple path."""
    steps = []
    for m in re.finditer(_QUERY_PART, query):
        if m.group(1) is not None:
            steps.append(("field", m.group(1)))
        elif m.group(2) is not None:
            steps.append(("index", int(m.group(2))))
        else:
            steps.append(("each", None))
    return steps


def _walk(value, steps: list):
    for i, (kind, arg) in enumerate(steps):
        if kind == "field":
            value = value.get(arg) if isinstance(value, dict) else None
        elif kind == "index":
            value = value[arg] if isinstance(value, list) and -len(value) <= arg < len(value) else None
        else:
            if not isinstance(value, list):
                return None
            projected = (_walk(item, steps[i + 1 :]) for item in value)
            return [v for v in projected if v is not None]
    return value


def emit(result, *, output: str, query: str | None = None) -> None:
    value = apply_query(printable(result), query)
    if output == "json":
        click.echo(escape_json(dumps_indented(value)))
    elif output == "text":
        # Lines joined and written a thousand at a time: one click.echo per line was most of
        # list-keys' time at 100,000 keys (each call checks the stream and its ANSI handling).
        batch: list[str] = []
        for line in text_lines(_complete_listing(value)):  # each value escaped by scalar_text
            batch.append(line)
            if len(batch) == 1000:
                click.echo("\n".join(batch))
                batch = []
        if batch:
            click.echo("\n".join(batch))
    else:
        table(value, curated=not query)  # after --query, the shape the query chose


def _complete_listing(value):
    """A List result that is complete, without its "Truncated": false. aws-cli pages through
    its List operations and prints no Truncated; kept, it would be a lone "False" line ahead
    of the rows that `kmscli list-keys --output text | cut -f3` and loops read."""
    if isinstance(value, dict) and value.get("Truncated") is False:
        return {k: v for k, v in value.items() if k != "Truncated"}
    return value


def emit_line(value) -> None:
    """A result as exactly one compact JSON line, flushed at once: what a script waiting on
    a long-running command (serve) reads to learn that it is ready."""
    click.echo(json.dumps(value, ensure_ascii=False))
    sys.stdout.flush()


def emit_shell_export(name: str, value: str) -> None:
    """A line for `eval`: `export NAME=VALUE` (VALUE must be shell-safe; callers ensure it)."""
    click.echo(f"export {name}={value}")


def emit_script(text: str) -> None:
    """Text that is itself the result (a completion script), printed as is."""
    click.echo(text, nl=False)


def notice(message: str) -> None:
    """A diagnostic line on stderr, prefixed as every kmscli diagnostic is."""
    click.echo(f"kmscli: {escape(message)}", err=True)


# --- text: the AWS CLI's tab-separated rendering ---------------------------------------------


def scalar_text(value) -> str:
    """A scalar as aws-cli writes it: str(value), so None, True and False as Python spells
    them; escaped, as a description or tag value must not drive the terminal. Text output and
    table cells (tables.py, which leaves a None cell empty instead) both write scalars so."""
    return escape(str(value))


def text_lines(value, label: str | None = None, scalar_keys: list[str] | None = None):
    """`aws --output text`, column for column (the rules of aws-cli's awscli/text.py, which
    tests/test_text_output.py holds this to): an object's scalars on one tab-separated line,
    in sorted key order, after the key that holds it in capitals; its lists and objects on
    lines of their own. The objects of one list share their columns (the sorted union of
    their scalar keys, empty where one lacks it); a list of scalars under a key is one line
    per item, a bare one a single line."""
    if isinstance(value, dict):
        if scalar_keys is None:
            keys = sorted(value)
            scalars = [scalar_text(value[k]) for k in keys if not isinstance(value[k], (dict, list))]
            nested = [k for k in keys if isinstance(value[k], (dict, list))]
        else:
            scalars = [scalar_text(value[k]) if k in value else "" for k in scalar_keys]
            nested = sorted(set(value) - set(scalar_keys))
        if scalars:
            yield "\t".join(([label.upper()] if label is not None else []) + scalars)
        for k in nested:
            yield from text_lines(value[k], k)
    elif isinstance(value, list):
        if not value:
            return
        if any(isinstance(v, dict) for v in value):
            keys = sorted({k for v in value if isinstance(v, dict) for k, x in v.items() if not isinstance(x, (dict, list))})
            for item in value:
                yield from text_lines(item, label, keys if isinstance(item, dict) else None)
        else:
            scalars = [v for v in value if not isinstance(v, (dict, list))]
            if scalars:
                if label is not None:
                    for v in scalars:
                        yield f"{label.upper()}\t{scalar_text(v)}"
                else:
                    yield "\t".join(scalar_text(v) for v in scalars)
            for v in value:
                if isinstance(v, list):
                    yield from text_lines(v, label)
    else:
        yield scalar_text(value)


# --- table: kmscli/cli/tables.py lays it out --------------------------------------------------


def _colour_allowed() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def table(value, *, curated: bool = True) -> None:
    """``value`` as tables fitted to the terminal (tables.py). NO_COLOR (or no terminal): no
    escape sequences at all, not even bold, so the table reads the same in a log, a pipe or a
    screen reader."""
    from .tables import render, table_width

    click.echo(render(value, colour=_colour_allowed(), width=table_width(), curated=curated), nl=False)


# --- progress: a bar on standard error for long streamed operations, and nothing otherwise --

# Below this a run is over before a bar would tell anyone anything.
PROGRESS_THRESHOLD = 32 << 20


def progress_wanted(total: int | None, *, quiet: bool) -> bool:
    return not quiet and total is not None and total >= PROGRESS_THRESHOLD and sys.stderr.isatty()


_IEC_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


def _iec_unit(n: float) -> tuple[int, str]:
    """The power of 1024 and the IEC name to show ``n`` bytes in."""
    power = 0
    while n >= 1024 and power < len(_IEC_UNITS) - 1:
        n /= 1024
        power += 1
    return power, _IEC_UNITS[power]


def _in_unit(n: float, power: int) -> str:
    return f"{n:.0f}" if power == 0 else f"{n / 1024 ** power:.1f}"


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def transfer_text(done: float, total: float, speed: float | None, remaining: float | None) -> str:
    """What the bar says beside itself, in one unit system (IEC: KiB, MiB, GiB, as sizes
    are counted), the amount done in the total's unit: "0.2/1.4 GiB  361.6 MiB/s  ETA 0:00:04".
    rich's own columns mixed them ("0.2/1.4 GiB 361.6 MB/s")."""
    power, unit = _iec_unit(total)
    text = f"{_in_unit(done, power)}/{_in_unit(total, power)} {unit}"
    if speed:
        rate_power, rate_unit = _iec_unit(speed)
        text += f"  {_in_unit(speed, rate_power)} {rate_unit}/s"
    else:
        text += "  ?/s"
    return f"{text}  ETA {_clock(remaining)}"


@contextmanager
def progress_bar(total: int | None, description: str, *, quiet: bool):
    """Yields a callable taking a byte count to advance by, or None when no bar is drawn."""
    if not progress_wanted(total, quiet=quiet):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
    from rich.text import Text

    class Transfer(ProgressColumn):
        def render(self, task):
            remaining = task.time_remaining if not task.finished else 0
            return Text(transfer_text(task.completed, task.total or 0, task.finished_speed or task.speed, remaining))

    columns = (TextColumn("kmscli: {task.description}"), BarColumn(), Transfer())
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
