"""The lifecycle sweep: what time has made due, done at the next write to the keyring.

Registered as a ``Keyring.write_hooks`` entry, so it runs under the writer lock at the start
of every ``keyring.transaction()``, whichever command writes. There is no daemon: a keyring
nobody writes to keeps a key past its DeletionDate as PendingDeletion (refused by every
cryptographic operation) until the next write destroys it.

- A key pending deletion whose DeletionDate has passed is destroyed: its aliases are removed
  (their alias buckets rewritten) and then its key file, with every wrapped material, is deleted.
  In that order, so a crash in between leaves a key that the next sweep deletes, never an
  alias pointing at nothing.
- An enabled key whose automatic rotation is due gets one new material (service.rotation).

What to look at comes from the keyring's index of due dates (kmscli/keyring/index.py), fed by
``due_date`` below whenever a key file is written: the sweep reads the days that have come,
not every key file, so a write costs the same at 100,000 keys as at one. An index entry is
only a hint: the key file is re-read and its integrity tag checked, and only what the file
itself says is done. A file altered by hand to move a DeletionDate into the past, or an
index entry forged to name a key, is left alone (the file is refused as damaged when used).
The index entries a sweep consumed are dropped only after the work is done: a crash in
between leaves entries that the next sweep finds done already."""

from __future__ import annotations

from ..errors import KmsError
from ..keyring import Keyring
from ..keyring.index import IndexDamaged
from .keydoc import ENABLED, PENDING_DELETION, iso, now, parse_date
from .rotation import AUTOMATIC, is_due, rotate, schedule


def deletion_due(meta: dict, when) -> bool:
    return meta.get("KeyState") == PENDING_DELETION and parse_date(
        meta.get("DeletionDate"), f"deletion date of {meta.get('KeyId')}"
    ) <= when


def due_date(doc: dict) -> str | None:
    """When the sweep has something to do to this key (ISO 8601 UTC), or None: its
    DeletionDate when pending deletion, else its NextRotationDate when it is enabled and
    rotates automatically (a disabled key is not rotated; enabling it writes its file, and
    so its date, again). Exactly when ``deletion_due`` or ``is_due`` become true."""
    meta = doc["metadata"]
    if meta.get("KeyState") == PENDING_DELETION:
        text, what = meta.get("DeletionDate"), "deletion date"
    else:
        rotation = schedule(doc)
        if rotation.get("Enabled") is not True or meta.get("KeyState") != ENABLED:
            return None
        text, what = rotation.get("NextRotationDate"), "rotation date"
    import datetime as dt

    when = parse_date(text, f"{what} of {meta.get('KeyId')}").astimezone(dt.timezone.utc)
    return iso(when.replace(microsecond=0) + dt.timedelta(seconds=1 if when.microsecond else 0))


def sweep(keyring: Keyring) -> None:
    try:
        _sweep(keyring)
    except IndexDamaged:
        keyring.rebuild_index()  # a damaged due file: the key files say again what is due
        _sweep(keyring)


def _sweep(keyring: Keyring) -> None:
    when = now(keyring)
    stamp = iso(when)
    index = keyring.index
    destroyed: list[str] = []
    consumed = []
    for path, entries in index.due_files(stamp):
        kept = []
        for entry in entries:
            due_at, key_id = entry
            if due_at > stamp:
                kept.append(entry)  # later today
                continue
            _carry_out(keyring, key_id, when, destroyed)
        consumed.append((path, kept))
    if destroyed:
        # The aliases of each destroyed key, as their verified buckets say (the index only
        # says where to look).
        gone = {row[0]: None for key_id in destroyed for row in keyring.alias_rows_of_key(key_id, verify=True)}
        keyring.save_alias_changes(gone)
        for key_id in destroyed:
            keyring.delete_key_file(key_id)
    for path, kept in consumed:
        index.keep_due(path, kept)


def _carry_out(keyring: Keyring, key_id: str, when, destroyed: list[str]) -> None:
    """Whatever the key's own verified file says is due; nothing for a missing or damaged
    file (a damaged file is reported when it is used, not by every other write)."""
    try:
        doc = keyring.load_key(key_id, verify=True)
        delete = deletion_due(doc["metadata"], when)
        due = not delete and is_due(doc, when)
    except KmsError:
        return
    if delete:
        if key_id not in destroyed:
            destroyed.append(key_id)
    elif due:
        rotate(keyring, doc, AUTOMATIC)  # a failure here fails the write, state unchanged
    else:
        # Not due (a stale or forged entry, or a date moved later): make sure the date the
        # file says is recorded before this entry is dropped.
        later = due_date(doc)
        if later is not None:
            keyring.index.add_due(key_id, later)
