"""`python -m kmscli`, and the `kmscli` console script (pyproject.toml points it at ``run``)."""

import sys


def run() -> None:
    # Ctrl-C while kmscli is still importing (click, the commands): the same quiet exit
    # status 130 as during a command (main() turns KeyboardInterrupt into it), not a traceback.
    try:
        from kmscli.cli.main import entry_point
    except KeyboardInterrupt:
        sys.exit(130)
    entry_point()


if __name__ == "__main__":
    run()
