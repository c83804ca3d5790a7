"""Sessions: the master key, kept for a while under a token that lives only in the environment.

``kmscli unlock`` derives the master key once (scrypt) and writes it to a session file,
AES-256-GCM-encrypted under a key derived from a random token; the token is printed once,
for ``eval``, and never written anywhere. Later commands read ``KMSCLI_SESSION``, derive the
file key with HKDF (microseconds, where scrypt takes a third of a second) and open the file.

    file     $XDG_RUNTIME_DIR/kmscli/<keyring_id>.<session_id>.session (0600, in a 0700 dir)
    token    kmscli-session-1.<session_id>.<32 random bytes, base64url>
    key      HKDF-SHA256(token secret, "kmscli v1 session" | keyring_id | session_id)
    AAD      every field of the file but the sealed master key: keyring id, session id,
             epoch, creation and expiry times

The file alone is useless (its key is in the token); the token alone is useless (the file
is on this machine, in this user's private runtime directory). Each keyring has a "session
epoch" (``session-epoch`` in the keyring directory, random); ``kmscli lock`` replaces it and
removes the files, so a copy of a session file taken before the lock cannot be revived.

Only the standard library, AES-GCM and HKDF are imported here: this is the fast path of every
command run with a session, and must not pull in scrypt, rich or asymmetric cryptography.
"""

from __future__ import annotations

import binascii
import json
import os
import stat
from pathlib import Path

from .. import crypto
from ..crypto import aead, kdf
from ..errors import (
    FileAccessException,
    KeyringLockedException,
    SessionExpiredException,
    ValidationException,
)
from . import format as fmt
from .fsutil import OPEN_TO_OTHERS, atomic_write, fsync_dir, private_dir_problem, read_file

SESSION_KIND = "kmscli-session"
SESSION_VERSION = 1
TOKEN_PREFIX = "kmscli-session-1"
SESSION_SUFFIX = ".session"
EPOCH_FILE = "session-epoch"
SECRET_SIZE = 32
SESSION_FILE_LIMIT = 4096

# The cap keeps a forgotten session from outliving a working day; a shell that needs more
# unlocks again (which asks for the passphrase: a session can never extend itself).
TTL_DEFAULT = 15 * 60
TTL_MIN = 1
TTL_MAX = 12 * 3600
_TTL = r"([0-9]{1,6})([smh]?)"  # compiled by the one command that reads it, unlock
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}

# A token is TOKEN_PREFIX "." 32 lower-case hex digits "." 43 characters of unpadded base64url
# (32 bytes). Checked by string operations, not a regular expression: every command run in
# a session reads one, and compiling a pattern costs more than the rest of the check.
_HEX = frozenset("0123456789abcdef")
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_TO_STANDARD_B64 = str.maketrans("-_", "+/")
_TO_URLSAFE_B64 = str.maketrans("+/", "-_")
_SESSION_LABEL = b"kmscli v1 session\x00"

UNLOCK_HINT = 'start a new session with: eval "$(kmscli unlock)"'


# --- time-to-live -----------------------------------------------------------------------------


def parse_ttl(text: str) -> int:
    """Seconds in ``90``, ``90s``, ``15m`` or ``2h``, between TTL_MIN and TTL_MAX."""
    import re

    m = re.fullmatch(_TTL, text.strip())
    if not m:
        raise ValidationException(f"--ttl {text[:40]!r} is not a duration such as 90s, 15m or 2h")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if not TTL_MIN <= seconds <= TTL_MAX:
        raise ValidationException(
            f"--ttl must be between {TTL_MIN}s and {TTL_MAX // 3600}h (it was {text.strip()})"
        )
    return seconds


# --- where sessions live -----------------------------------------------------------------------


def runtime_dir() -> Path:
    """``$XDG_RUNTIME_DIR/kmscli`` (a per-user tmpfs on systemd machines, emptied at logout),
    else ``${TMPDIR:-/tmp}/kmscli-<uid>``. Not created here: see ``_private_dir``."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        return Path(xdg) / "kmscli"
    base = os.environ.get("TMPDIR") or "/tmp"
    return Path(base) / f"kmscli-{os.geteuid()}"


def _check_dir(path: Path) -> None:
    """Refuse a session directory that another user could read, write or have planted."""
    problem = private_dir_problem(os.lstat(path), OPEN_TO_OTHERS)
    if problem:
        raise FileAccessException(
            f"the session directory {path} {problem[1]}; kmscli keeps sessions only in a private directory",
            hint="set XDG_RUNTIME_DIR to a directory only you can use (mode 0700), or remove that one",
        )


def _private_dir(create: bool) -> Path | None:
    path = runtime_dir()
    try:
        _check_dir(path)
        return path
    except FileNotFoundError:
        if not create:
            return None
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass  # created meanwhile: checked below like any other
    except OSError as e:
        raise FileAccessException(f"cannot create the session directory {path}: {e.strerror}") from None
    else:
        os.chmod(path, 0o700)  # mkdir's mode passes through the umask
    _check_dir(path)
    return path


def _session_path(directory: Path, keyring_id: str, session_id: str) -> Path:
    return directory / f"{keyring_id}.{session_id}{SESSION_SUFFIX}"


# --- the session epoch -----------------------------------------------------------------------------


def _read_epoch(keyring) -> str | None:
    try:
        text = read_file(keyring.path / EPOCH_FILE, limit=128).decode("ascii", "replace").strip()
    except FileNotFoundError:
        return None
    return text if _is_hex_id(text) else None


def _is_hex_id(text: str) -> bool:
    """32 lower-case hex digits: a session id, or the session epoch."""
    return len(text) == 32 and _HEX.issuperset(text)


def _urlsafe_b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii").translate(_TO_URLSAFE_B64).rstrip("=")


def _new_epoch(keyring) -> str:
    """Replace the epoch: every session made before now is refused, copies included.
    Runs under the keyring's writer lock (not ``transaction()``: ending sessions needs no
    passphrase)."""
    from .lock import exclusive_lock  # lock and unlock only: a command in a session never takes it

    epoch = os.urandom(16).hex()
    with exclusive_lock(keyring.path):
        atomic_write(keyring.path / EPOCH_FILE, (epoch + "\n").encode("ascii"))
    return epoch


def _current_or_new_epoch(keyring) -> str:
    return _read_epoch(keyring) or _new_epoch(keyring)


# --- sealing ---------------------------------------------------------------------------------------


def _session_key(secret: bytes, keyring_id: str, session_id: str) -> bytes:
    return kdf.hkdf_sha256(secret, _SESSION_LABEL + f"{keyring_id}\x00{session_id}".encode("ascii"))


def _aad(header: dict) -> bytes:
    return _SESSION_LABEL + fmt.canonical(header)


def start(keyring, ttl: int = TTL_DEFAULT) -> dict:
    """Start a session on an unlocked keyring; returns {"Token", "Expires", "SessionFile"}.

    The token is returned to be printed once; it is never stored."""
    if not TTL_MIN <= ttl <= TTL_MAX:
        raise ValidationException(f"the session TTL must be {TTL_MIN} to {TTL_MAX} seconds")
    master = keyring.master_key  # unlocks with the passphrase before anything is written
    directory = _private_dir(create=True)
    _remove_expired(directory, keyring)
    epoch = _current_or_new_epoch(keyring)
    session_id = os.urandom(16).hex()
    secret = os.urandom(SECRET_SIZE)
    now = int(keyring.clock().timestamp())
    header = {
        "format": SESSION_KIND,
        "version": SESSION_VERSION,
        "keyring_id": keyring.keyring_id,
        "session_id": session_id,
        "epoch": epoch,
        "created": now,
        "expires": now + ttl,
    }
    nonce, sealed = aead.seal(_session_key(secret, keyring.keyring_id, session_id), master, _aad(header))
    doc = {**header, "nonce": fmt.b64e(nonce), "master_key": fmt.b64e(sealed)}
    path = _session_path(directory, keyring.keyring_id, session_id)
    atomic_write(path, json.dumps(doc, sort_keys=True).encode("utf-8"), exclusive=True)
    token = f"{TOKEN_PREFIX}.{session_id}.{_urlsafe_b64(secret)}"
    return {"Token": token, "Expires": header["expires"], "SessionFile": str(path)}


def _parse_token(token: str) -> tuple[str, bytes]:
    """(session id, secret) of a token in the one spelling `unlock` prints. Not stripped,
    and re-encoded to compare: base64's last character carries 2 unused bits, so four
    spellings would otherwise open the same session (and "$" would allow a newline)."""
    # The token is a secret: no message below ever includes any part of it.
    parts = token.split(".") if isinstance(token, str) else []
    well_formed = (
        len(parts) == 3
        and parts[0] == TOKEN_PREFIX
        and _is_hex_id(parts[1])
        and len(parts[2]) == 43
        and _B64URL.issuperset(parts[2])
    )
    secret = binascii.a2b_base64((parts[2] + "=").translate(_TO_STANDARD_B64)) if well_formed else b""
    if not well_formed or _urlsafe_b64(secret) != parts[2]:
        raise KeyringLockedException(
            "KMSCLI_SESSION does not hold a kmscli session token", hint=UNLOCK_HINT
        )
    return parts[1], secret


def _ended(what: str) -> SessionExpiredException:
    return SessionExpiredException(f"the session in KMSCLI_SESSION {what}", hint=UNLOCK_HINT)


def _invalid() -> KeyringLockedException:
    # One message for a wrong token and an altered file: which it was is nobody's business.
    return KeyringLockedException(
        "the session in KMSCLI_SESSION is not valid for this keyring (wrong token, or its file was altered)",
        hint=UNLOCK_HINT,
    )


def _read_session_file(path: Path) -> bytes | None:
    """The file's bytes, if it is a regular file of ours; None when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError:
        raise _invalid() from None  # a link, or unreadable: not a file we wrote
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077:
            raise _invalid()
        return f.read(SESSION_FILE_LIMIT + 1)


def master_from_session(keyring, token: str) -> bytes:
    """The 32-byte master key of ``keyring`` from the session ``token`` names, or a KmsError
    of exit status 4 (expired, ended by ``lock``, for another keyring, or not valid)."""
    session_id, secret = _parse_token(token)
    directory = _private_dir(create=False)
    if directory is None:
        raise _ended("has ended (no session directory: locked, or the machine restarted)")
    path = _session_path(directory, keyring.keyring_id, session_id)
    raw = _read_session_file(path)
    if raw is None:
        raise _ended("has ended (locked or expired), or was started for another keyring")
    if len(raw) > SESSION_FILE_LIMIT:
        raise _invalid()
    try:
        doc = json.loads(raw)
        header = {k: doc[k] for k in ("format", "version", "keyring_id", "session_id", "epoch", "created", "expires")}
        nonce = binascii.a2b_base64(doc["nonce"], strict_mode=True)
        sealed = binascii.a2b_base64(doc["master_key"], strict_mode=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _invalid() from None
    if (
        header["format"] != SESSION_KIND
        or header["version"] != SESSION_VERSION
        or header["keyring_id"] != keyring.keyring_id
        or header["session_id"] != session_id
        or not isinstance(header["expires"], int)
    ):
        raise _invalid()
    try:
        master = aead.open_(_session_key(secret, keyring.keyring_id, session_id), nonce, sealed, _aad(header))
    except crypto.CryptoFailure:
        raise _invalid() from None
    # Checked only once the file is authenticated: its times and epoch are then the ones
    # `unlock` wrote, not ones an editor chose.
    if header["epoch"] != _read_epoch(keyring):
        _remove(path)
        raise _ended("was ended by `kmscli lock` or a passphrase change")
    if int(keyring.clock().timestamp()) >= header["expires"]:
        _remove(path)
        raise _ended("has expired")
    if len(master) != aead.KEY_SIZE:
        raise _invalid()
    return master


# --- ending sessions ---------------------------------------------------------------------------------


def _remove(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
    except OSError as e:
        raise FileAccessException(f"cannot remove the session file {path}: {e.strerror}") from None


def _session_files(directory: Path, keyring) -> list[Path]:
    prefix = keyring.keyring_id + "."
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / n for n in names if n.startswith(prefix) and n.endswith(SESSION_SUFFIX)]


def _remove_expired(directory: Path, keyring) -> None:
    """Tidy files whose expiry (in the clear beside the sealed key) has passed; a file edited
    to look expired is only removed early, which any same-user process could do anyway."""
    now = int(keyring.clock().timestamp())
    for path in _session_files(directory, keyring):
        try:
            with open(path, "rb") as f:
                expires = json.loads(f.read(SESSION_FILE_LIMIT)).get("expires")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(expires, int) and expires <= now:
            _remove(path)


def end_all(keyring) -> int:
    """End every session of ``keyring``: a new epoch (so copies of session files are refused
    too), then the files go. Needs no passphrase. Returns how many files were removed."""
    _new_epoch(keyring)
    directory = _private_dir(create=False)
    if directory is None:
        return 0
    removed = sum(_remove(p) for p in _session_files(directory, keyring))
    if removed:
        fsync_dir(directory)
    return removed
