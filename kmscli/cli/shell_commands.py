"""completion: the shell completion scripts (the same ones committed under completions/)."""

from __future__ import annotations

import click

from .render import emit_script

SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "kmscli"
# The variable click's completion protocol looks for: the scripts call kmscli back with it.
COMPLETE_VAR = "_KMSCLI_COMPLETE"


def completion_script(shell: str) -> str:
    """The script for ``shell``, built by click from the live command tree.

    The script is a thin function that calls kmscli back on every Tab with
    ``_KMSCLI_COMPLETE=<shell>_complete``: commands, options and choices (key specs,
    algorithms) come from the command tree of the kmscli that answers, and key ids and
    aliases from the keyring's clear metadata, so the script never goes stale."""
    from click.shell_completion import get_completion_class

    from .main import cli

    completion_class = get_completion_class(shell)
    source = completion_class(cli, {}, PROG_NAME, COMPLETE_VAR).source()
    return source.rstrip("\n") + "\n"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell):
    """Print the tab-completion script for SHELL (bash, zsh or fish).

    Commands, options, key specs and algorithms complete, and so do the key ids and alias
    names of the keyring (read from its metadata: no passphrase is asked).

    \b
    Example:
      eval "$(kmscli completion bash)"
      kmscli completion zsh > ~/.zfunc/_kmscli
      kmscli completion fish > ~/.config/fish/completions/kmscli.fish
    """
    emit_script(completion_script(shell))
