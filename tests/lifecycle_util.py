"""Helpers shared by the key-lifecycle tests."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)


def at(days: float = 0, **delta) -> dict:
    """The test clock (conftest.TEST_CLOCK), ``days`` after T0: an ``env`` entry that the
    runners inject through the Python API, never through the environment."""
    from conftest import TEST_CLOCK

    return {TEST_CLOCK: (T0 + dt.timedelta(days=days, **delta)).isoformat()}


def refused(result, name: str, status: int = 3) -> None:
    """A clean failure: the exception name on stderr, nothing on stdout, the right status."""
    assert result.status == status, (result.status, result.stderr)
    assert result.stdout == b""
    assert result.stderr.startswith(f"kmscli: error: {name}: "), result.stderr
    assert "Traceback" not in result.stderr


def silent_ok(result) -> None:
    """Success of an operation AWS answers with nothing: exit 0, nothing on stdout."""
    assert result.status == 0, result.stderr
    assert result.stdout == b""


def snapshot(keyring: Path) -> dict:
    """Every file of the keyring and a hash of its bytes (the lock file aside)."""
    return {
        str(p.relative_to(keyring)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(keyring.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def alias_file(keyring: Path, alias_name: str) -> Path:
    """The sealed bucket that holds ``alias_name`` (aliases/<2 hex>.toml)."""
    from kmscli.keyring.format import alias_bucket

    return keyring / "aliases" / f"{alias_bucket(alias_name)}.toml"


def name_in_bucket_of(alias_name: str, stem: str = "alias/new") -> str:
    """A new alias name that falls in the same bucket as ``alias_name``."""
    from kmscli.keyring.format import alias_bucket

    return next(f"{stem}-{n}" for n in range(100000) if alias_bucket(f"{stem}-{n}") == alias_bucket(alias_name))


def key_file(keyring: Path, key_id: str) -> Path:
    return keyring / "keys" / f"{key_id}.toml"


def blob_material_id(blob_b64: str) -> str:
    """The key material id a symmetric ciphertext names (bytes 17..49 of the blob)."""
    return base64.b64decode(blob_b64)[17:49].hex()
