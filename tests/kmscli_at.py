#!/usr/bin/env python3
"""Test-only entry point: kmscli with its clock fixed at an instant, for real processes.

    python tests/kmscli_at.py 2030-01-01T00:00:00+00:00 create-key ...

The instant is injected through the Python API (CliContext.clock); the installed kmscli has
no way to change its clock (no environment variable, file or flag), so a script that tests
its own use of kmscli through time uses this file or the Python API (docs/key-lifecycle.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def fixed_clock(text: str):
    from kmscli.keyring.clock import parse_instant

    fixed = parse_instant(text)
    return lambda: fixed


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        raise SystemExit("usage: kmscli_at.py INSTANT [KMSCLI ARGS...]")
    from kmscli.cli import main as cli_main
    from kmscli.cli.context import CliContext

    CliContext.clock = staticmethod(fixed_clock(argv[0]))
    status = cli_main.main(argv[1:])
    sys.stdout.flush()
    return int(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
