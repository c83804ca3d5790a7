"""A kmscli process at a pseudo-terminal, driven as a person would type at it.

The pty is the process's controlling terminal, standard input and standard error (where
getpass asks and kmscli's notices go); standard output is a pipe, kept apart. Every wait is
bounded: a prompt that never comes fails the test instead of hanging it."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time

from conftest import ROOT

WAIT = 30  # seconds for any one expected text (scrypt at the test cost takes milliseconds)


class Terminal:
    def __init__(self, args, env: dict):
        self.controller, terminal = os.openpty()

        def controlling_tty():
            os.setsid()
            fcntl.ioctl(terminal, termios.TIOCSCTTY, 0)

        full = {k: v for k, v in os.environ.items() if not k.startswith("KMSCLI_")}
        full.update({k: v for k, v in env.items() if v is not None})
        full["PYTHONPATH"] = str(ROOT)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kmscli", *map(str, args)],
            stdin=terminal, stdout=subprocess.PIPE, stderr=terminal, env=full, preexec_fn=controlling_tty,
        )
        os.close(terminal)
        self.shown = b""  # everything the terminal showed
        self._unread = 0  # where the next expect starts looking

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.controller], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            chunk = os.read(self.controller, 4096)
        except OSError:  # EIO: the process closed its side
            return False
        self.shown += chunk
        return bool(chunk)

    def expect(self, text: str) -> str:
        """Wait for ``text``; returns what the terminal showed since the last expect, up to it."""
        wanted = text.encode()
        deadline = time.monotonic() + WAIT
        while wanted not in self.shown[self._unread :]:
            if not self._read(deadline):
                raise AssertionError(f"{text!r} never showed; the terminal showed: {self.shown!r}")
        end = self.shown.index(wanted, self._unread) + len(wanted)
        seen = self.shown[self._unread : end].decode("utf-8", "replace")
        self._unread = end
        return seen

    def type(self, line: str) -> None:
        os.write(self.controller, line.encode() + b"\n")

    def finish(self) -> tuple[int, bytes, str]:
        """(exit status, standard output, what the terminal showed after the last expect)."""
        try:
            out, _ = self.process.communicate(timeout=WAIT)
            while self._read(time.monotonic() + 0.2):
                pass
        finally:
            os.close(self.controller)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return self.process.returncode, out, self.shown[self._unread :].decode("utf-8", "replace")
