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


def prompt(message: str, *, confirm: bool = False) -> bytes | None:
    """Ask on the terminal with echo off; None when there is no terminal to ask on."""
    if not sys.stdin.isatty():
        return None
    import getpass

    first = getpass.getpass(f"{message}: ", stream=sys.stderr)
    if confirm:
        second = getpass.getpass(f"{message} (again): ", stream=sys.stderr)
        if first != second:
            raise ValidationException("the two passphrases differ")
    if not first:
        raise ValidationException("the passphrase is empty")
    return first.encode("utf-8")


def new_passphrase(
    passphrase_file: str | None, *, file_env: str, value_env: str, what: str, option: str = "--passphrase-file"
) -> bytes:
    """A passphrase for a new protection (init, change-passphrase): file, env, prompt twice."""
    from .hardening import no_core_dumps

    no_core_dumps()
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file, option)
    env_file = os.environ.get(file_env)
    if env_file:
        return read_passphrase_file(env_file, file_env)
    secret = from_environment(value_env) or prompt(what, confirm=True)
    if secret is None:
        raise KeyringLockedException(
            f"no {what.lower()} given and standard input is not a terminal",
            hint=f"set {file_env} to a file holding it, or {value_env}",
        )
    return secret
