"""Process hardening for the moment secrets arrive: no core dumps.

A core of a running decrypt-file held the passphrase and the master key. RLIMIT_CORE 0 stops
the kernel writing a core file; PR_SET_DUMPABLE 0 also stops a core piped to a handler
(systemd-coredump, apport), which RLIMIT_CORE alone does not, and keeps other processes of
the same user from attaching with ptrace. Done when a command is about to read a passphrase
or unlock (CliContext.unlock, passphrase.new_passphrase), not at start-up.

prctl(2) is called through cffi's backend, which cryptography's bindings have already loaded
by the time anything unlocks, rather than through ctypes: importing ctypes cost every
encrypt, decrypt and sign ~9.5M instructions (~1.5 ms), a twelfth of what kmscli added to
the floor of bench/startup.sh. ctypes remains the fallback where cffi's backend is not there."""

from __future__ import annotations

import sys

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
    if sys.platform.startswith("linux"):
        _not_dumpable()


def _not_dumpable() -> None:
    try:
        prctl = _prctl_via_cffi()
    except Exception:  # noqa: BLE001 - any failure of the fast way: the stdlib way below
        prctl = None
    if prctl is None:
        try:
            import ctypes

            prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (ImportError, OSError, AttributeError):
            return
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _prctl_via_cffi():
    """int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long), from the C
    library, by the calls cffi's own FFI.dlopen makes (no C compiler, no cdef parsing)."""
    import _cffi_backend as backend

    int_t = backend.new_primitive_type("int")
    ulong = backend.new_primitive_type("unsigned long")
    signature = backend.new_function_type((int_t, ulong, ulong, ulong, ulong), int_t, False)
    return backend.load_library(None).load_function(signature, "prctl")
