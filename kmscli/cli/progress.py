"""A progress bar on standard error for long streamed operations, and nothing otherwise.

rich is imported only when a bar is really drawn: a command run in a loop or a pipe, or with
--quiet, pays nothing for it."""

from __future__ import annotations

import sys
from contextlib import contextmanager

# Below this a run is over before a bar would tell anyone anything.
THRESHOLD = 32 << 20


def wanted(total: int | None, *, quiet: bool) -> bool:
    return not quiet and total is not None and total >= THRESHOLD and sys.stderr.isatty()


@contextmanager
def progress_bar(total: int | None, description: str, *, quiet: bool):
    """Yields a callable taking a byte count to advance by, or None when no bar is drawn."""
    if not wanted(total, quiet=quiet):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("kmscli: {task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)
