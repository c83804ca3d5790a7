"""Changing one key document safely, the key states, and the dates lifecycle operations write.

Every change is read-check-write under the writer lock: the key is resolved and re-read
inside ``keyring.transaction()`` (so an alias moved or a state changed by another process
is seen), the change is made on a copy, and the copy is written atomically only when the
whole change succeeded. A change that fails leaves the file as it was."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from ..errors import KeyringDamagedException, ValidationException
from ..keyring import Keyring
from ..keyring.clock import parse_instant
from .resolve import resolve_key_id

# KeyState values, as AWS spells them (stored in key files: never renamed).
ENABLED = "Enabled"
DISABLED = "Disabled"
PENDING_DELETION = "PendingDeletion"
PENDING_IMPORT = "PendingImport"


@contextmanager
def editing(keyring: Keyring, key_id: str):
    """Yield a copy of the key's verified document; write it back if the body succeeds."""
    with keyring.transaction():
        doc = keyring.load_key(resolve_key_id(keyring, key_id), verify=True)
        import copy  # writers only: encrypt, decrypt and sign never copy a document

        work = copy.deepcopy(doc)
        yield work
        if work != doc:
            keyring.save_key(work)


def now(keyring: Keyring) -> dt.datetime:
    # Whole seconds: the dates we store and print are ISO 8601 to the second, like CreationDate.
    return keyring.clock().astimezone(dt.timezone.utc).replace(microsecond=0)


def iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


def parse_date(text: object, what: str) -> dt.datetime:
    """A date this module wrote; anything else means the file was damaged."""
    try:
        return parse_instant(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise KeyringDamagedException(f"{what} is not an ISO 8601 date") from None


def whole_days(days, default: int, bounds: tuple[int, int], field: str) -> int:
    """A period in whole days (``default`` when not given) within AWS's ``bounds``."""
    days = default if days is None else days
    low, high = bounds
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise ValidationException(f"{field} must be between {low} and {high}")
    return days
