"""`python -m kmscli`, and the `kmscli` console script (pyproject.toml points it at ``run``)."""

import gc
import sys


def run() -> None:
    # Start-up makes tens of thousands of objects that live as long as the process (modules,
    # classes, click's commands): the cyclic GC would walk them again and again for nothing,
    # and once more at exit, ~33M instructions of an encrypt (bench/startup.sh, COUNT=1),
    # a sixth of the floor. It is paused here and resumed,
    # with what exists by then frozen out of its reach, once the command is known
    # (kmscli/cli/main.py: resume_gc), so that a long command (serve, a big encrypt-file)
    # runs with it as usual.
    gc.disable()
    _untranslated_click()
    # Ctrl-C while kmscli is still importing (click, the commands): the same quiet exit
    # status 130 as during a command (main() turns KeyboardInterrupt into it), not a traceback.
    try:
        from kmscli.cli.main import entry_point
    except KeyboardInterrupt:
        sys.exit(130)
    entry_point(gc_paused=True)


def _untranslated_click() -> None:
    """click's own messages ("Missing option ...", "Show this message and exit.") in English,
    without asking gettext for a catalogue each time one is made.

    click marks its messages for gettext, and an application that wants them translated
    installs catalogues; kmscli's output is English only, as aws-cli's is (the contract's
    error lines are read by scripts, and click ships no catalogues anyway). Every lookup
    searched the locale directories afresh and the first imported the locale module: ~5M
    instructions of each command's start-up. Only the console script does this, before click
    is imported; the Python API leaves gettext alone."""
    import gettext

    gettext.dgettext = lambda domain, message: message
    gettext.dngettext = lambda domain, msgid1, msgid2, n: msgid1 if n == 1 else msgid2


if __name__ == "__main__":
    run()
