"""Which time the keyring lives in: the real one, or a fixed one for tests.

Deletion dates and rotation schedules are days or years away; tests cannot wait for them.
``KMSCLI_TEST_NOW`` (an ISO 8601 instant; test-only, documented in docs/key-lifecycle.md)
fixes the clock of every keyring a command opens, so that a test can schedule a deletion
"today" and run the next command "a month later" in a real process too."""

from __future__ import annotations

import datetime as dt
import os

from ..errors import ValidationException
from .store import utc_now

TEST_NOW_ENV = "KMSCLI_TEST_NOW"


def assume_utc(when: dt.datetime) -> dt.datetime:
    """``when``, taken as UTC if it names no zone."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.timezone.utc)


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant; one without a zone is taken as UTC. Raises ValueError (or
    TypeError for what is not text): each caller says what the text was."""
    return assume_utc(dt.datetime.fromisoformat(text))


def from_environment():
    """The clock for this process: ``utc_now``, or a fixed instant from KMSCLI_TEST_NOW."""
    text = os.environ.get(TEST_NOW_ENV)
    if not text:
        return utc_now
    try:
        fixed = parse_instant(text)
    except ValueError:
        raise ValidationException(f"{TEST_NOW_ENV} is not an ISO 8601 instant") from None
    return lambda: fixed
