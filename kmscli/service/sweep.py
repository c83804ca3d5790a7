"""The lifecycle sweep: what time has made due, done at the next write to the keyring.

Registered as a ``Keyring.write_hooks`` entry, so it runs under the writer lock at the start
of every ``keyring.transaction()``, whichever command writes. There is no daemon: a keyring
nobody writes to keeps a key past its DeletionDate as PendingDeletion (refused by every
cryptographic operation) until the next write destroys it.

- A key pending deletion whose DeletionDate has passed is destroyed: its aliases are removed
  (aliases.toml rewritten) and then its key file, with every wrapped material, is deleted.
  In that order, so a crash in between leaves a key that the next sweep deletes, never an
  alias pointing at nothing.
- An enabled key whose automatic rotation is due gets one new material (service.rotation).

Only documents whose integrity tag verifies are acted on: a file altered by hand to move a
DeletionDate into the past is left alone (and refused as damaged when it is used)."""

from __future__ import annotations

from ..errors import KmsError
from ..keyring import Keyring
from .keydoc import PENDING_DELETION, now, parse_date
from .rotation import AUTOMATIC, is_due, rotate


def _verified(keyring: Keyring, doc: dict) -> bool:
    try:
        keyring.verify_document(doc, f"key file {doc['metadata']['KeyId']}")
    except KmsError:
        return False
    return True


def deletion_due(meta: dict, when) -> bool:
    return meta.get("KeyState") == PENDING_DELETION and parse_date(
        meta.get("DeletionDate"), f"deletion date of {meta.get('KeyId')}"
    ) <= when


def sweep(keyring: Keyring) -> None:
    when = now(keyring)
    destroyed = []
    for key_id in keyring.key_ids():
        try:
            # The clear metadata picks the candidates cheaply; a candidate is verified before
            # anything is done to it.
            doc = keyring.load_key(key_id, verify=False)
            delete = deletion_due(doc["metadata"], when)
            due = not delete and is_due(doc, when)
        except KmsError:
            continue  # a damaged file is reported when it is used, not by every other write
        if not (delete or due) or not _verified(keyring, doc):
            continue
        if delete:
            destroyed.append(key_id)
        else:
            rotate(keyring, doc, AUTOMATIC)  # a failure here fails the write, state unchanged
    if destroyed:
        aliases = keyring.load_aliases(verify=True)
        kept = {name: a for name, a in aliases.items() if a.get("TargetKeyId") not in destroyed}
        if kept != aliases:
            keyring.save_aliases(kept)
        for key_id in destroyed:
            keyring.delete_key_file(key_id)

