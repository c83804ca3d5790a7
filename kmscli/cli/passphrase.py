"""Where passphrases come from: a file, the environment, or a hidden prompt. Never argv."""

from __future__ import annotations

import os
import sys

from ..errors import FileAccessException, KeyringLockedException, ValidationException

PASSPHRASE_FILE_LIMIT = 64 << 10


def read_passphrase_file(path: str, option: str = "--passphrase-file") -> bytes:
    """The first line of ``path``, without its line ending. ``option`` names the option (or
    variable) that gave ``path``, for the error."""
    if path == "-":
        raise ValidationException(f"{option} - is not allowed: standard input carries data")
    if path == "":
        raise ValidationException(f"{option} must not be empty")
    try:
        with open(path, "rb") as f:
            _warn_if_readable_by_others(path, os.fstat(f.fileno()))
            data = f.read(PASSPHRASE_FILE_LIMIT)
    except OSError as e:
        raise FileAccessException(f"cannot read the passphrase file {path}: {e.strerror}") from None
    line = data.split(b"\n", 1)[0].removesuffix(b"\r")
    if not line:
        raise ValidationException(f"the passphrase file {path} starts with an empty line")
    return line


_warned: set[str] = set()


def _warn_if_readable_by_others(path: str, st: os.stat_result) -> None:
    """A warning, once per file and process, when others may read the passphrase (as ssh
    warns of a private key file). Not a refusal: a group-readable file can be a deliberate
    choice (a service account's group), and refusing would break working scripts."""
    import stat

    if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o044 or path in _warned:
        return
    _warned.add(path)
    from .render import notice

    mode = stat.S_IMODE(st.st_mode)
    who = "group and others" if st.st_mode & 0o004 and st.st_mode & 0o040 else "others" if st.st_mode & 0o004 else "its group"
    notice(f"warning: the passphrase file {path} is readable by {who} (mode {mode:04o})")
    notice(f"hint: make it private with: chmod 600 {path}")


def from_environment(name: str) -> bytes | None:
    value = os.environ.get(name)
    return value.encode("utf-8") if value else None


# How many times a new passphrase is asked for (twice each) before the command gives up.
CONFIRM_ATTEMPTS = 3


def prompt(message: str, *, confirm: bool = False, cost: tuple[int, int] | None = None) -> bytes | None:
    """Ask on the terminal with echo off; None when there is no terminal to ask on.

    With ``confirm`` (a new passphrase) it is asked twice; an empty one or a confirmation
    that differs asks again, up to CONFIRM_ATTEMPTS times, rather than throwing away what was
    typed. A very weak one gets a warning (weak_passphrase) before the confirmation, saying
    what scrypt at ``cost`` (log2 N, r) can and cannot do for it, so another can be chosen."""
    if not sys.stdin.isatty():
        return None
    import getpass

    if not confirm:
        first = getpass.getpass(f"{message}: ", stream=sys.stderr)
        if not first:
            raise ValidationException("the passphrase is empty")
        return first.encode("utf-8")
    from .render import notice

    problem = ""
    for attempt in range(1, CONFIRM_ATTEMPTS + 1):
        again = attempt < CONFIRM_ATTEMPTS
        first = getpass.getpass(f"{message}: ", stream=sys.stderr)
        if not first:
            problem = "the passphrase is empty"
            if again:
                notice(f"{problem}; type one (or press Ctrl-C to stop)")
            continue
        if cost is not None:
            from .weak_passphrase import warning_lines, weakness

            reason = weakness(first.encode("utf-8"))
            if reason:
                for line in warning_lines(reason, *cost):
                    notice(line)
        second = getpass.getpass(f"{message} (again): ", stream=sys.stderr)
        if first == second:
            return first.encode("utf-8")
        problem = "the two passphrases differ"
        if again:
            notice(f"{problem}; try again ({CONFIRM_ATTEMPTS - attempt} more)")
    raise ValidationException(
        f"{problem}, {CONFIRM_ATTEMPTS} times: nothing was changed",
        hint="run the command again, or give the passphrase in a file (see --help)",
    )


def new_passphrase(
    passphrase_file: str | None,
    *,
    file_env: str,
    value_env: str,
    what: str,
    option: str = "--passphrase-file",
    cost: tuple[int, int] | None = None,
) -> bytes:
    """A passphrase for a new protection (init, change-passphrase): file, env, prompt twice.
    ``cost`` is the scrypt (log2 N, r) it will be used with, for the warning the prompt gives
    a very weak passphrase. Files and variables are not judged: they are scripts' and CI's
    channels, where throwaway keyrings are common and a warning would be noise in logs."""
    from .hardening import no_core_dumps

    no_core_dumps()
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file, option)
    env_file = os.environ.get(file_env)
    if env_file:
        return read_passphrase_file(env_file, file_env)
    secret = from_environment(value_env) or prompt(what, confirm=True, cost=cost)
    if secret is None:
        raise KeyringLockedException(
            f"no {what.lower()} given and standard input is not a terminal",
            hint=f"set {file_env} to a file holding it, or {value_env}",
        )
    return secret
