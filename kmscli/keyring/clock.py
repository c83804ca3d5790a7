"""Reading instants: one ISO 8601 reading for every date kmscli takes or stores.

The clock itself is the keyring's (``Keyring(clock=...)``, ``utc_now`` unless a caller of the
Python API passes another). No environment variable or file can change the clock of an
installed kmscli: tests inject theirs through the Python API, or through the test-only entry
point tests/kmscli_at.py, which the package does not contain."""

from __future__ import annotations

import datetime as dt


def assume_utc(when: dt.datetime) -> dt.datetime:
    """``when``, taken as UTC if it names no zone."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant; one without a zone is taken as UTC. Raises ValueError (or
    TypeError for what is not text): each caller says what the text was."""
    return assume_utc(dt.datetime.fromisoformat(text))
