"""The keyring's writer lock: an flock on ``.lock``, taken with a timeout.

flock is released by the kernel when its holder dies, so a crashed kmscli never leaves a
lock that blocks later processes."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import DependencyTimeoutException, FileAccessException, ValidationException

DEFAULT_TIMEOUT = 10.0
LOCK_NAME = ".lock"


def lock_timeout() -> float:
    """KMSCLI_LOCK_TIMEOUT in seconds (default 10); a value that is not a number is refused
    rather than silently replaced, so a script's typo does not change how long it waits."""
    text = os.environ.get("KMSCLI_LOCK_TIMEOUT")
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise ValidationException(f"KMSCLI_LOCK_TIMEOUT={text[:20]!r} is not a number of seconds from 0 to 86400")
    return value


@contextmanager
def exclusive_lock(directory: Path, timeout: float | None = None):
    import fcntl  # writers only: a command that only reads never takes the lock

    timeout = lock_timeout() if timeout is None else timeout
    path = directory / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        raise FileAccessException(f"cannot open the keyring lock {path}: {e.strerror}") from None
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DependencyTimeoutException(
                        f"another kmscli process has held the keyring lock for {timeout:g}s",
                        hint="try again, or raise KMSCLI_LOCK_TIMEOUT",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        yield
    finally:
        os.close(fd)  # closing releases the flock
