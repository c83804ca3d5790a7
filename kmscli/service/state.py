"""EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion: the key state machine.

    Enabled  <-- enable-key / disable-key -->  Disabled
       |                                          |
       +---- schedule-key-deletion ----> PendingDeletion ---- cancel-key-deletion --> Disabled
                                              |
                                   DeletionDate passes: at the next write the key file is
                                   deleted (service.sweep) and the key is NotFoundException

A key with no key material (Origin EXTERNAL, PendingImport) is cancelled back to PendingImport.

As AWS: a key pending deletion can be neither enabled nor disabled (KMSInvalidStateException),
and cancelling a deletion leaves the key Disabled, so it is never used again by surprise."""

from __future__ import annotations

import datetime as dt

from .. import specs
from ..errors import KMSInvalidStateException
from ..keyring import Keyring
from .keydoc import DISABLED, ENABLED, PENDING_DELETION, PENDING_IMPORT, editing, iso, now, whole_days
from .keys import key_state, state_words


def _set_enabled(keyring: Keyring, key_id: str, enabled: bool) -> dict:
    with editing(keyring, key_id) as doc:
        meta = doc["metadata"]
        state = key_state(keyring, meta)  # expired imported material: PendingImport, as AWS
        if state not in (ENABLED, DISABLED):
            raise KMSInvalidStateException(
                state_words(keyring, meta["KeyId"], state),
                hint=(
                    f"cancel the deletion first: kmscli cancel-key-deletion --key-id {meta['KeyId']}"
                    if state == PENDING_DELETION
                    else None
                ),
            )
        meta["KeyState"] = ENABLED if enabled else DISABLED
    return {}


def enable_key(keyring: Keyring, key_id: str) -> dict:
    """Enabled again (a no-op on an enabled key). Returns nothing, as AWS."""
    return _set_enabled(keyring, key_id, True)


def disable_key(keyring: Keyring, key_id: str) -> dict:
    """Disabled: every cryptographic operation refuses it with DisabledException."""
    return _set_enabled(keyring, key_id, False)


def schedule_key_deletion(keyring: Keyring, key_id: str, *, pending_window_in_days: int | None = None) -> dict:
    days = whole_days(pending_window_in_days, specs.PENDING_WINDOW_DEFAULT, specs.PENDING_WINDOW_DAYS, "PendingWindowInDays")
    with editing(keyring, key_id) as doc:
        meta = doc["metadata"]
        if meta["KeyState"] == PENDING_DELETION:
            raise KMSInvalidStateException(
                f"key {meta['KeyId']} is already pending deletion (on {meta.get('DeletionDate')})"
            )
        deletion = iso(now(keyring) + dt.timedelta(days=days))
        meta["KeyState"] = PENDING_DELETION
        meta["DeletionDate"] = deletion
        meta["PendingDeletionWindowInDays"] = days
    return {
        "KeyId": keyring.key_arn(meta["KeyId"]),
        "DeletionDate": deletion,
        "KeyState": PENDING_DELETION,
        "PendingWindowInDays": days,
    }


def cancel_key_deletion(keyring: Keyring, key_id: str) -> dict:
    with editing(keyring, key_id) as doc:
        meta = doc["metadata"]
        if meta["KeyState"] != PENDING_DELETION:
            raise KMSInvalidStateException(f"key {meta['KeyId']} is not pending deletion")
        # A key with no key material (EXTERNAL, never imported or deleted) goes back to
        # PendingImport, as AWS: Disabled would let enable-key make a key with nothing to
        # encrypt with.
        from .materials import has_all_material

        meta["KeyState"] = DISABLED if has_all_material(doc) else PENDING_IMPORT
        meta.pop("DeletionDate", None)
        meta.pop("PendingDeletionWindowInDays", None)
    return {"KeyId": keyring.key_arn(meta["KeyId"])}


def refuse_if_pending_deletion(meta: dict) -> None:
    """What AWS answers to a change (tags, description, aliases) on a key pending deletion."""
    if meta["KeyState"] == PENDING_DELETION:
        raise KMSInvalidStateException(
            f"key {meta['KeyId']} is pending deletion",
            hint=f"cancel the deletion first: kmscli cancel-key-deletion --key-id {meta['KeyId']}",
        )
