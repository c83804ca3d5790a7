"""File-system habits of the keyring: private modes from creation, atomic replacement.

Every keyring file is written by creating a temp file in the same directory (0600, O_EXCL),
writing, fsync, rename over the target, then fsync of the directory, so that a crash or a
full disk leaves either the old file or the new one, never a mix (age and sqlite habits).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import FileAccessException, KeyringDamagedException

FILE_MODE = 0o600
DIR_MODE = 0o700
TEMP_PREFIX = ".tmp-"


def make_private_dir(path: Path) -> None:
    """Create ``path`` as 0700 whatever the umask; an existing one is checked, not changed."""
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        check_private_dir(path)
        return
    os.chmod(path, DIR_MODE)  # mkdir's mode is filtered through the umask


def make_parent_dirs(path: Path) -> None:
    """Create the missing ancestors of ``path`` as 0700, whatever the umask.

    ``Path.mkdir(parents=True)`` gives missing parents the umask's default mode (0777 under
    umask 000), and anyone who can write to a parent can rename the keyring away and put
    another in its place. The XDG base directory spec also asks for 0700. Ancestors that
    already exist are not touched."""
    missing = []
    parent = Path(path).parent
    while not os.path.lexists(parent) and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to change
        except OSError as e:
            raise FileAccessException(f"cannot create {directory}: {e.strerror}") from None
        os.chmod(directory, DIR_MODE)


# The permission bits of other users that a private directory must keep closed: a keyring's
# files are sealed, so others may read but never write it; a session directory is closed.
WRITABLE_BY_OTHERS = 0o022
OPEN_TO_OTHERS = 0o077
_OPEN_PHRASES = {WRITABLE_BY_OTHERS: "is writable by group or others", OPEN_TO_OTHERS: "is open to other users"}


def private_dir_problem(st: os.stat_result, closed: int) -> tuple[str, str] | None:
    """Why a directory, as ``os.lstat`` saw it, is not private to us: (kind, phrase), kind
    being "link", "type", "owner" or "mode"; None when it is private.

    Anyone who can write to it could swap files under us; a symlink could send our writes
    elsewhere; in a shared /tmp anyone may create the directory first."""
    if stat.S_ISLNK(st.st_mode):
        return "link", "is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "type", "is not a directory"
    if st.st_uid != os.geteuid():
        return "owner", f"belongs to another user (uid {st.st_uid})"
    if st.st_mode & closed:
        return "mode", f"{_OPEN_PHRASES[closed]} (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def check_private_dir(path: Path) -> None:
    """Refuse a keyring directory that is a symlink, not ours, or writable by others."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise FileAccessException(f"cannot read {path}: {e.strerror}") from None
    problem = private_dir_problem(st, WRITABLE_BY_OTHERS)
    if problem is None:
        return
    kind, phrase = problem
    if kind == "link":
        raise KeyringDamagedException(
            f"{path} {phrase}; kmscli refuses a keyring reached through a link",
            hint=f"point --keyring at the real directory: {os.path.realpath(path)}",
        )
    raise KeyringDamagedException(f"{path} {phrase}", hint=f"chmod 700 {path}" if kind == "mode" else None)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, exclusive: bool = False, temp_dir: Path | None = None) -> None:
    """Replace ``path`` with ``data`` atomically; with ``exclusive``, never replace a file.

    Nothing is left behind on failure: the temp file is removed and the old file stands.
    ``temp_dir`` (on the same file system) holds the temp files instead of ``path``'s own
    directory: the keyring's files in keys/ and index/ are written through the keyring
    directory, so that the next writer removes what a crash left without listing keys/,
    whose size grows with the number of keys."""
    directory = path.parent
    scratch = directory if temp_dir is None else temp_dir
    temp = scratch / f"{TEMP_PREFIX}{path.name}.{os.urandom(6).hex()}"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except OSError as e:
        raise FileAccessException(f"cannot write in {scratch}: {e.strerror}") from None
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            # link() fails if the target exists: a create that can never overwrite.
            os.link(temp, path)
            os.unlink(temp)
            _commit(directory, undo=lambda: os.unlink(path))
        else:
            # The old file stays reachable under a temp name until the directory is synced,
            # so that a failing directory fsync can put it back: a failed command changes
            # nothing. A crash in between leaves only a .tmp- name, removed by the next writer.
            backup = scratch / f"{TEMP_PREFIX}{path.name}.{os.urandom(6).hex()}.old"
            try:
                os.link(path, backup)
            except FileNotFoundError:
                backup = None
            try:
                os.rename(temp, path)
                _commit(directory, undo=(lambda: os.rename(backup, path)) if backup else (lambda: os.unlink(path)))
            finally:
                if backup is not None:
                    _remove_quietly(backup)
    except FileExistsError:
        _remove_quietly(temp)
        raise
    except OSError as e:
        _remove_quietly(temp)
        raise FileAccessException(f"cannot write {path}: {e.strerror}") from None
    except BaseException:
        _remove_quietly(temp)
        raise


def replace_unsynced(path: Path, data: bytes, *, temp_dir: Path) -> None:
    """Replace ``path`` by rename, without fsync: only for a file whose loss or staleness
    after a power cut is harmless by design (the index's stamp: an old or missing one makes
    the index be rebuilt), where two fsyncs would double the cost of every key write."""
    temp = temp_dir / f"{TEMP_PREFIX}{path.name}.{os.urandom(6).hex()}"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # whatever the umask, as atomic_write
            os.write(fd, data)
        finally:
            os.close(fd)
        os.rename(temp, path)
    except OSError as e:
        _remove_quietly(temp)
        raise FileAccessException(f"cannot write {path}: {e.strerror}") from None


def write_new_files(files: dict[Path, bytes], *, threads: int = 8) -> None:
    """Create each file of ``files`` (none may exist) with its data, then make them all
    durable: each file's fsync, then each directory's. Not atomic file by file: only for
    files nothing reads until the caller writes something else after them (a rebuild of
    the index, whose ``format`` comes last), where one atomic_write each, two fsyncs apiece
    in turn, would cost ~1 ms a file. The fsyncs run on a few threads: the file system
    commits concurrent ones together (4,096 small files: 0.6 s against 1.9 s in turn and
    4.2 s by atomic_write, on this machine)."""
    paths = []
    for path, data in files.items():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
            try:
                os.fchmod(fd, FILE_MODE)  # whatever the umask, as atomic_write
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        except OSError as e:
            raise FileAccessException(f"cannot write {path}: {e.strerror}") from None
        paths.append(path)

    def sync(path: Path) -> None:
        # Opened again rather than kept open: thousands of descriptors would pass the
        # usual limit of 1,024.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    try:
        if len(paths) > 1:
            from concurrent.futures import ThreadPoolExecutor  # only here: a rebuild is rare

            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(sync, paths))
        else:
            for path in paths:
                sync(path)
        for directory in sorted({path.parent for path in paths}):
            fsync_dir(directory)
    except OSError as e:
        raise FileAccessException(f"cannot write {paths[0].parent}: {e.strerror}") from None


def _commit(directory: Path, *, undo) -> None:
    """fsync the directory; if that fails, ``undo`` the rename before reporting it, since
    the caller will say the write failed and the old state must then be what is on disk."""
    try:
        fsync_dir(directory)
    except OSError:
        try:
            undo()
        except OSError:
            pass
        raise


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def read_file(path: Path, limit: int = 1 << 20) -> bytes:
    """Read a keyring file, refusing links and anything larger than ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise KeyringDamagedException(f"cannot read {path}: {e.strerror}") from None
    # os.read on the descriptor, not a file object: os.fdopen costs three more system calls
    # (fstat, ioctl, lseek), and `kmscli serve` reads a key file or two per request.
    try:
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > limit:
        raise KeyringDamagedException(f"{path} is larger than any keyring file can be")
    return data


def remove_stale_temps(directory: Path) -> None:
    """Remove temp files a killed process left behind (they never hold a committed state)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(TEMP_PREFIX):
            _remove_quietly(directory / name)
