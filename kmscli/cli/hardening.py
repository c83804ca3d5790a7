"""Process hardening for the moment secrets arrive: no core dumps.

A core of a running decrypt-file held the passphrase and the master key. RLIMIT_CORE 0 stops
the kernel writing a core file; PR_SET_DUMPABLE 0 also stops a core piped to a handler
(systemd-coredump, apport), which RLIMIT_CORE alone does not, and keeps other processes of
the same user from attaching with ptrace. Done when a command is about to read a passphrase
or unlock (CliContext.unlock, passphrase.new_passphrase), not at start-up: ctypes costs
~2 ms, which `kmscli --version` and list-keys need not pay."""

from __future__ import annotations

_done = False
PR_SET_DUMPABLE = 4


def no_core_dumps() -> None:
    global _done
    if _done:
        return
    _done = True
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform; PR_SET_DUMPABLE below still applies where it exists
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (ImportError, OSError, AttributeError):
        pass  # not Linux
