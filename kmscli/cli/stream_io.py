"""Streams in and out: inputs opened once, outputs that appear whole. Every --out of every
command is written here (io.write_output for whole results, ``output`` for streamed files).

A named output is written to a private (0600) temp file in the destination's directory,
created with O_EXCL, and renamed over the destination only when the command succeeded (after
the last chunk authenticated, for decrypt-file); on any failure or interruption the temp file
is removed and the destination is untouched. A named output is never opened itself: a FIFO,
device or socket planted at that path (in a shared directory, say) would otherwise receive a
plaintext or a data key, so one is refused (``check_output_path``), before the keyring is
unlocked and again just before the rename. Standard output is only ever ``-``, the user's
own choice, which nobody can plant: ``--out /dev/stdout`` or ``/dev/tty`` is refused like any
device, so that binary bytes cannot reach a terminal by that road. Bytes go to standard
output as the service releases them (for decrypt-file: each chunk once it authenticated).
"""

from __future__ import annotations

import codecs
import os
import queue
import signal
import stat
import sys
import threading
from contextlib import contextmanager

from ..errors import FileAccessException, ValidationException

TEMP_PREFIX = ".kmscli-"
# Every this many bytes, ask the kernel to start writing the output to disk (see FileOutput).
WRITEBACK_STEP = 32 << 20
# How many chunks a background writer may have queued behind the one it is writing.
BACKGROUND_QUEUE = 2
# Signals that must reach the main thread, whose handlers end a command cleanly.
_MAIN_THREAD_SIGNALS = {signal.SIGTERM, signal.SIGINT}


# The next step when --out names the input: the output is written whole, then renamed.
SAME_FILE_HINT = "write to another path, then mv it over the input if you mean to replace it"


def check_paths(in_path: str, out_path: str) -> None:
    """Refuse an output that is the input (it would be destroyed before it was read), or one
    that is not a regular file (check_output_path)."""
    check_output_path(out_path)
    if in_path != "-" and out_path != "-" and (in_path == out_path or same_file(in_path, out_path)):
        raise ValidationException(f"--out {out_path} is the input file; choose another output path", hint=SAME_FILE_HINT)


def same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


# Paths of the kernel's own file systems: a named output there is never a file the user made.
_SPECIAL_TREES = ("/dev/", "/proc/", "/sys/")


def output_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a named output, or None. A new path, a regular file, or a
    symbolic link (the rename replaces the link, never what it points to) can be; a FIFO, a
    device, a socket, a directory, or a link to one of those cannot."""
    real = os.path.realpath(path)
    if any(p.startswith(_SPECIAL_TREES) for p in (os.path.abspath(path) + "/", real + "/")):
        return "is a device or a kernel file"
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None  # a new file, or a dangling link: the rename puts a regular file there
    except OSError as e:
        return f"cannot be examined ({e.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"is {kind}, not a regular file"


def check_output_path(path: str, option: str = "--out") -> None:
    """Refuse a named output that is not a regular file (see output_path_problem)."""
    if path == "-":
        return
    problem = output_path_problem(path)
    if problem:
        raise ValidationException(
            f"{option} {path} {problem}; kmscli writes a named output only as a new regular file",
            hint="for standard output use --out - (and redirect it yourself: --out - > PATH, or | READER)",
        )


def printable(text: str) -> bool:
    """Text a terminal shows safely; anything else (escape sequences) could drive it."""
    return all(c.isprintable() or c in "\n\t\r" for c in text)


def is_text(data: bytes) -> bool:
    """Printable UTF-8, which may be written to a terminal."""
    try:
        return printable(data.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def claim_stdin(what: str) -> None:
    """Note that ``what`` reads standard input; refuse a second input that would. Standard
    input can be read once: a second reader would get nothing and fail with a misleading
    "must be 1 to N bytes", or verify against an empty value."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return
    meta = ctx.find_root().meta
    earlier = meta.get("kmscli.stdin")
    if earlier is not None and earlier != what:
        raise ValidationException(
            f"{earlier} and {what} both read standard input (-); only one input can",
            hint="write one of them to a file and name that file instead",
        )
    meta["kmscli.stdin"] = what


@contextmanager
def open_input(path: str, what: str = "the input"):
    """(binary stream, size in bytes or None when unknown) of ``path``; ``-`` is stdin. A
    pipe, terminal or other special file is read through PipeInput."""
    if path == "-":
        claim_stdin(what)
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as e:
        raise FileAccessException(f"cannot read {path}: {e.strerror}") from None
    try:
        size = _regular_size(stream)
        fd = _fileno(stream)
        yield (PipeInput(fd) if size is None and fd is not None else stream), size
    finally:
        if path != "-":
            stream.close()


def _fileno(stream) -> int | None:
    try:
        return stream.fileno()
    except (OSError, AttributeError, ValueError):  # an in-memory stdin (tests) has no fd
        return None


class PipeInput:
    """A pipe or terminal, read so that SIGTERM cannot be lost while kmscli waits for input.

    A signal that arrives after Python let go of the interpreter lock but before read(2)
    starts to wait does not interrupt that read, and Python runs its handler only when the
    read returns: with a writer that keeps the pipe open and quiet, `kill` would leave
    kmscli asleep and its temp file in place. So every read first waits in poll() for at
    most POLL_SECONDS at a time; between waits Python code runs, and a pending handler with
    it. Reads go to the descriptor itself (no buffer that poll cannot see)."""

    POLL_SECONDS = 0.25

    def __init__(self, fd: int):
        import select

        self.fd = fd
        self.poller = select.poll()
        self.poller.register(fd, select.POLLIN)

    def fileno(self) -> int:
        return self.fd

    def _wait(self) -> None:
        # Readable, at its end, or in error: the read that follows returns at once.
        while not self.poller.poll(int(self.POLL_SECONDS * 1000)):
            pass

    def readinto(self, buffer) -> int:
        """Up to len(buffer) bytes, as one read(2) gives them; 0 at the end."""
        self._wait()
        return os.readv(self.fd, [buffer])

    def read(self, n: int = -1) -> bytes:
        """``n`` bytes (all, when ``n`` is negative), or fewer only at the end of the input,
        as a buffered file reads."""
        parts, remaining = [], n if n >= 0 else None
        while remaining is None or remaining > 0:
            self._wait()
            got = os.read(self.fd, remaining or 1 << 20)
            if not got:
                break
            parts.append(got)
            if remaining is not None:
                remaining -= len(got)
        return b"".join(parts)


def _regular_size(stream) -> int | None:
    try:
        st = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):  # an in-memory stdin (tests) has no fd
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


class BackgroundWriter:
    """Calls ``write`` on a thread of its own, in order, so that the disk works while the
    caller seals the next chunk (a streamed file spends as long in write() and the kernel's
    writeback as in AES-GCM; done one after the other they add up).

    ``put`` returns once the view is queued; the caller must leave it untouched until the
    writer is done with it, which is at most ``HELD_VIEWS`` puts later (stream.encrypt and
    stream.decrypt rotate that many more buffers). The first error the writer meets is
    raised by the next ``put`` or by ``finish``; later views are dropped."""

    HELD_VIEWS = BACKGROUND_QUEUE + 1  # the queued ones and the one being written

    def __init__(self, write):
        self.write = write
        self.queue: queue.Queue = queue.Queue(maxsize=BACKGROUND_QUEUE)
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._run, name="kmscli-writer", daemon=True)
        # The kernel hands a process-directed signal to any thread that does not block it.
        # Caught by this one, SIGTERM or Ctrl-C would leave the main thread asleep in a read
        # of standard input, where the Python handler never runs: the command would hang.
        # The thread inherits the mask it is started with, so block them around the start.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)
        try:
            self.thread.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _run(self) -> None:
        while True:
            view = self.queue.get()
            if view is None:
                return
            if self.error is None and not self.cancelled:
                try:
                    self.write(view)
                except BaseException as e:  # handed to the caller's thread, raised there
                    self.error = e

    def put(self, view) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(view)

    def finish(self) -> None:
        """Wait until everything queued is written; raise the writer's error, if any."""
        self._stop()
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        """Drop what is still queued and wait for the write in progress to end."""
        self.cancelled = True
        self._stop()

    def _stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()


class FileOutput:
    """Write to a temp file beside ``path``; ``commit`` renames it into place.

    With ``background``, the writes are made by a BackgroundWriter (for streamed files)."""

    def __init__(self, path: str, *, background: bool = False):
        self.path = path
        self.directory = os.path.dirname(os.path.abspath(path))
        self.temp: str | None = None
        self.file = None
        self.written = 0
        self.handed_to_disk = 0
        self.background = background
        self.writer: BackgroundWriter | None = None
        self.held_views = BackgroundWriter.HELD_VIEWS if background else 0
        self.committed = False  # renamed into place: the command has done its work

    def _open(self) -> None:
        self.temp = os.path.join(self.directory, f"{TEMP_PREFIX}{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except OSError as e:
            self.temp = None
            raise FileAccessException(f"cannot write in {self.directory}: {e.strerror}") from None
        self.file = os.fdopen(fd, "wb")

    def prepare(self) -> None:
        """Create the temp file now, before the work: a command that changes the keyring
        learns that its output cannot be written before it changes anything."""
        if self.file is None:
            self._open()

    def write(self, data) -> None:
        if self.file is None:
            self._open()
        if self.background:
            if self.writer is None:
                self.writer = BackgroundWriter(self._write_now)
            self.writer.put(data)
        else:
            self._write_now(data)

    def _write_now(self, data) -> None:
        try:
            self.written += self.file.write(data)
            if self.written - self.handed_to_disk >= WRITEBACK_STEP:
                self._start_writeback()
        except OSError as e:
            raise FileAccessException(f"cannot write {self.path}: {e.strerror}") from None

    def _start_writeback(self) -> None:
        """Start writing what we have so far to disk, without waiting for it.

        The final fsync (needed before the rename, so that a crash cannot leave a
        half-written file under the final name) would otherwise write the whole file at
        the end, after the work; started early, the disk works while we encrypt, and the
        fsync has little left to do. It also keeps a backup of gigabytes from filling the
        page cache with dirty pages. On Linux, POSIX_FADV_DONTNEED starts writeback of
        dirty pages in the range (and drops only those already clean)."""
        if not hasattr(os, "posix_fadvise"):
            return
        self.file.flush()
        os.posix_fadvise(self.file.fileno(), self.handed_to_disk, self.written - self.handed_to_disk, os.POSIX_FADV_DONTNEED)
        self.handed_to_disk = self.written

    def commit(self) -> None:
        if self.file is None:
            self._open()
        if self.writer is not None:
            self.writer.finish()
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            # Checked again at the last moment: a FIFO or device put there since the command
            # started is refused, not replaced (were it /dev/null, as root, that would break
            # the system). A race past this check can only replace it by our 0600 file:
            # the output itself is never opened, so nothing is ever written into it.
            problem = output_path_problem(self.path)
            if problem:
                raise ValidationException(f"--out {self.path} {problem} (it appeared while the command ran)")
            # The rename and the note that it happened, as one step for a signal handler:
            # output() must know whether SIGTERM came before (discard) or after (done).
            with _signals_held():
                os.replace(self.temp, self.path)
                self.committed = True
        except OSError as e:
            raise FileAccessException(f"cannot write {self.path}: {e.strerror}") from None
        self.temp = None
        _sync_directory(os.path.dirname(os.path.abspath(self.path)))

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.cancel()  # before the file closes under it
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
        if self.temp is not None:
            try:
                os.unlink(self.temp)
            except OSError:
                pass
            self.temp = None


class StdoutOutput:
    """Standard output, refusing to drive a terminal with binary bytes."""

    held_views = 0  # written before write returns

    def __init__(self, *, binary: bool):
        self.stream = sys.stdout.buffer
        self.terminal = sys.stdout.isatty()
        if binary and self.terminal:
            raise _terminal_refusal()
        # Incremental: a character may straddle two chunks.
        self.decoder = codecs.getincrementaldecoder("utf-8")() if self.terminal else None

    def prepare(self) -> None:
        pass

    def write(self, data) -> None:
        if self.decoder is not None:
            try:
                text = self.decoder.decode(bytes(data))
            except UnicodeDecodeError:
                raise _terminal_refusal() from None
            if not printable(text):
                raise _terminal_refusal()
        self.stream.write(data)

    def commit(self) -> None:
        self.stream.flush()

    def discard(self) -> None:
        try:
            self.stream.flush()  # what was released is authentic; the error says it is incomplete
        except OSError:
            pass


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable. Best effort: the output is complete and in place
    already, and some file systems refuse to fsync a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _terminal_refusal() -> ValidationException:
    return ValidationException(
        "refusing to write binary output to a terminal",
        hint="redirect standard output, or write to a file with --out FILE",
    )


class _Terminated(KeyboardInterrupt):
    """SIGTERM, as Ctrl-C is: main() makes either exit status 130. A BaseException, so
    that no ``except Exception`` on the way can take it for an ordinary error."""


@contextmanager
def output(path: str, *, binary: bool, background: bool = False):
    """The destination for a streamed result; committed only if the block succeeds.

    ``background``: a file is written by a thread of its own; pass ``out.held_views`` on to
    the service. SIGTERM is turned into an exception meanwhile, so that `kill` (or a
    timeout) also removes the temp file; SIGKILL cannot be caught, and leaves a
    .kmscli-*.tmp file."""
    if path == "-":
        out = StdoutOutput(binary=binary)
    else:
        check_output_path(path)
        out = FileOutput(path, background=background)
    previous = _catch_sigterm()
    try:
        yield out
        out.commit()
    except BaseException as e:
        # Uninterrupted by a second signal (Ctrl-C twice, or SIGTERM after Ctrl-C), which
        # would leave the temp file; one that arrives meanwhile acts once this is done.
        with _signals_held():
            _restore_sigterm(previous)
            previous = None
            if isinstance(e, KeyboardInterrupt) and getattr(out, "committed", False):
                return  # the output was in place when the signal came: the command finished
            out.discard()
        raise
    finally:
        if previous is not None:
            with _signals_held():
                _restore_sigterm(previous)


@contextmanager
def _signals_held():
    """SIGTERM and SIGINT wait (pending) until the block is done."""
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _MAIN_THREAD_SIGNALS)
    except (AttributeError, OSError, ValueError):  # no pthread_sigmask on this platform
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _raise_terminated(signum, frame):
    raise _Terminated()


def _catch_sigterm():
    try:
        return signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave signals alone
        return None


def _restore_sigterm(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


class Prefixed:
    """A binary stream whose first bytes were already read: ``head``, then the rest."""

    def __init__(self, head: bytes, rest):
        self.head = head
        self.rest = rest

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n is None or n < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:n], self.head[n:]
            return data
        return self.rest.read(n)
