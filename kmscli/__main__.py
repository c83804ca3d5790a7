"""`python -m kmscli`, and the `kmscli` console script (pyproject.toml points it at ``run``)."""

import gc
import sys


def run() -> None:
    # Start-up makes tens of thousands of objects that live as long as the process (modules,
    # classes, click's commands): the cyclic GC would walk them again and again for nothing,
    # ~12M instructions of every command (bench/startup.sh). It is paused here and resumed,
    # with what exists by then frozen out of its reach, once the command is known
    # (kmscli/cli/main.py: resume_gc), so that a long command (serve, a big encrypt-file)
    # runs with it as usual.
    gc.disable()
    # Ctrl-C while kmscli is still importing (click, the commands): the same quiet exit
    # status 130 as during a command (main() turns KeyboardInterrupt into it), not a traceback.
    try:
        from kmscli.cli.main import entry_point
    except KeyboardInterrupt:
        sys.exit(130)
    entry_point(gc_paused=True)


if __name__ == "__main__":
    run()
