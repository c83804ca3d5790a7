"""Key rotation of symmetric encryption keys: EnableKeyRotation, DisableKeyRotation,
GetKeyRotationStatus, RotateKeyOnDemand, ListKeyRotations.

A rotation adds a new material entry to the key and makes it CurrentKeyMaterialId: new
ciphertexts use it, and every earlier ciphertext still decrypts because its blob names the
material it was made with and no material is ever removed (the Vault transit habit of
versioned keys). The entry records how it came: RotationType AUTOMATIC or ON_DEMAND.

The schedule is kept in the document's "rotation" table: Enabled, RotationPeriodInDays,
NextRotationDate. A rotation that has fallen due happens at the next write to the keyring
(service.sweep), dated at that write."""

from __future__ import annotations

import copy
import datetime as dt

from .. import specs
from ..errors import (
    InvalidMarkerException,
    KMSInvalidStateException,
    LimitExceededException,
    UnsupportedOperationException,
    ValidationException,
)
from ..keyring import Keyring
from . import materials, paging
from .keydoc import ENABLED, editing, iso, now, parse_date, whole_days
from .keys import check_usable_state, generate_material, new_material_entry
from .resolve import resolve_key_id

AUTOMATIC = "AUTOMATIC"
ON_DEMAND = "ON_DEMAND"


def check_rotatable(meta: dict, *, imported_ok: bool = False, wire_message: str | None = None) -> None:
    """As AWS: automatic rotation is for symmetric encryption keys whose material KMS
    generated; on-demand rotation (and the list of rotations) also for symmetric encryption
    keys with imported material (``imported_ok``), rotating to material imported for it.
    ``wire_message``: what an endpoint answers, where AWS's answer differs from kmscli's."""
    origins = ("AWS_KMS", "EXTERNAL") if imported_ok else ("AWS_KMS",)
    if meta["KeySpec"] != specs.SYMMETRIC_DEFAULT or meta.get("Origin") not in origins:
        why = (
            "only SYMMETRIC_DEFAULT keys support on-demand rotation"
            if imported_ok
            else "only SYMMETRIC_DEFAULT keys with origin AWS_KMS rotate automatically"
        )
        raise UnsupportedOperationException(
            f"key {meta['KeyId']} ({meta['KeySpec']}, origin {meta.get('Origin')}) cannot rotate: {why}",
            wire_message=wire_message,
        )


def schedule(doc: dict) -> dict:
    rotation = doc.get("rotation")
    return rotation if isinstance(rotation, dict) else {}


def is_due(doc: dict, when: dt.datetime) -> bool:
    """An enabled key whose automatic rotation date has come. A disabled key or one pending
    deletion is not rotated (as AWS); it rotates at the first write after it is enabled."""
    rotation = schedule(doc)
    return (
        rotation.get("Enabled") is True
        and doc["metadata"].get("KeyState") == ENABLED
        and parse_date(rotation.get("NextRotationDate"), f"rotation date of {doc['metadata']['KeyId']}") <= when
    )


def rotate(keyring: Keyring, doc: dict, rotation_type: str) -> dict:
    """Write ``doc`` with one more material, made current; returns the new document.

    Everything is built on a copy and written in one atomic replacement: a failure at any
    step (generation, wrapping, the check after wrapping, the write) leaves the old file."""
    work = copy.deepcopy(doc)
    meta = work["metadata"]
    spec = specs.KEY_SPECS[meta["KeySpec"]]
    when = now(keyring)
    entry = new_material_entry(keyring, meta, spec, generate_material(spec), iso(when))
    entry["RotationType"] = rotation_type
    work.setdefault("materials", []).append(entry)
    meta["CurrentKeyMaterialId"] = entry["KeyMaterialId"]
    rotation = schedule(work)
    if rotation_type == AUTOMATIC and rotation.get("Enabled"):
        rotation["NextRotationDate"] = iso(when + dt.timedelta(days=rotation["RotationPeriodInDays"]))
    keyring.save_key(work)
    return work


def enable_key_rotation(keyring: Keyring, key_id: str, *, rotation_period_in_days: int | None = None) -> dict:
    days = whole_days(
        rotation_period_in_days, specs.ROTATION_PERIOD_DEFAULT, specs.ROTATION_PERIOD_DAYS, "RotationPeriodInDays"
    )
    with editing(keyring, key_id) as doc:
        check_rotatable(doc["metadata"])
        check_usable_state(keyring, doc)
        doc["rotation"] = {
            "Enabled": True,
            "RotationPeriodInDays": days,
            "NextRotationDate": iso(_base(doc, keyring) + dt.timedelta(days=days)),
        }
    return {}


def _base(doc: dict, keyring: Keyring) -> dt.datetime:
    """When the current rotation period started. Enabling rotation starts one now; changing
    the period of an enabled schedule keeps its start (the last rotation, or when rotation
    was enabled), so enabling twice never postpones a rotation, and a period shortened below
    the time already elapsed makes the rotation due at the next write."""
    rotation = schedule(doc)
    if rotation.get("Enabled") is True:
        what = f"rotation schedule of {doc['metadata']['KeyId']}"
        return parse_date(rotation.get("NextRotationDate"), what) - dt.timedelta(days=rotation["RotationPeriodInDays"])
    return now(keyring)


def disable_key_rotation(keyring: Keyring, key_id: str) -> dict:
    with editing(keyring, key_id) as doc:
        check_rotatable(doc["metadata"])
        check_usable_state(keyring, doc)
        doc["rotation"] = {"Enabled": False}
    return {}


def get_key_rotation_status(keyring: Keyring, key_id: str) -> dict:
    """Needs no passphrase, and answers in every key state, as AWS."""
    doc = keyring.load_key(resolve_key_id(keyring, key_id))
    meta = doc["metadata"]
    check_rotatable(meta)
    rotation = schedule(doc)
    result = {"KeyRotationEnabled": rotation.get("Enabled") is True, "KeyId": keyring.key_arn(meta["KeyId"])}
    if result["KeyRotationEnabled"]:
        result["RotationPeriodInDays"] = rotation.get("RotationPeriodInDays")
        result["NextRotationDate"] = rotation.get("NextRotationDate")
    # OnDemandRotationStartDate is absent: an on-demand rotation here is finished when the
    # command returns, so one is never in progress.
    return result


def on_demand_count(doc: dict) -> int:
    return sum(
        1 for m in doc.get("materials", []) + doc.get("deleted_materials", [])
        if isinstance(m, dict) and m.get("RotationType") == ON_DEMAND
    )


def rotate_key_on_demand(keyring: Keyring, key_id: str) -> dict:
    """A new material, made current now. For imported material (Origin EXTERNAL), as AWS:
    the material imported with ImportType NEW_KEY_MATERIAL (PENDING_ROTATION) becomes current."""
    with keyring.transaction():
        doc = keyring.load_key(resolve_key_id(keyring, key_id), verify=True)
        meta = doc["metadata"]
        check_usable_state(keyring, doc)  # before the spec, as AWS (a disabled RSA key: DisabledException)
        # AWS refuses on-demand rotation of any other spec with no message (tests/test_aws_recorded.py).
        check_rotatable(meta, imported_ok=True, wire_message="")
        if on_demand_count(doc) >= specs.ON_DEMAND_ROTATIONS_MAX:
            raise LimitExceededException(  # AWS's words (tests/test_aws_recorded.py)
                "The on-demand rotations limit has been reached for the given keyId. No more on-demand "
                f"rotations can be performed for this key: {keyring.key_arn(meta['KeyId'])}",
                hint=f"automatic rotation has no such limit: kmscli enable-key-rotation --key-id {meta['KeyId']}"
                if meta.get("Origin") == "AWS_KMS"
                else None,
            )
        if meta.get("Origin") == "EXTERNAL":
            _rotate_to_imported(keyring, doc)
        else:
            rotate(keyring, doc, ON_DEMAND)
    return {"KeyId": keyring.key_arn(meta["KeyId"])}


def _rotate_to_imported(keyring: Keyring, doc: dict) -> None:
    work = copy.deepcopy(doc)
    meta = work["metadata"]
    entry = materials.pending_rotation(work)
    if entry is None:
        raise KMSInvalidStateException(
            f"key {meta['KeyId']} has imported key material: rotating it needs new key material imported first",
            hint=f"import it with: kmscli import-key-material --key-id {meta['KeyId']} --import-type NEW_KEY_MATERIAL ...",
        )
    entry.pop("PendingRotation")
    entry["RotationType"] = ON_DEMAND
    entry["RotationDate"] = iso(now(keyring))
    meta["CurrentKeyMaterialId"] = entry["KeyMaterialId"]
    materials.settle(work)
    keyring.save_key(work)


INCLUDE_KEY_MATERIAL = ("ALL_KEY_MATERIAL", "ROTATIONS_ONLY")


def list_key_rotations(
    keyring: Keyring,
    key_id: str,
    *,
    include_key_material: str | None = None,
    limit: int | None = None,
    marker: str | None = None,
) -> dict:
    """The key's materials, oldest first: by default (ROTATIONS_ONLY) those that rotations
    made current; ALL_KEY_MATERIAL adds the first material and imported material waiting
    for rotation (PENDING_ROTATION). ``NextMarker`` is the KeyMaterialId the next page
    starts at."""
    if include_key_material is not None and include_key_material not in INCLUDE_KEY_MATERIAL:
        raise ValidationException(
            f"IncludeKeyMaterial {str(include_key_material)[:40]!r} is not valid; valid: {', '.join(INCLUDE_KEY_MATERIAL)}"
        )
    every = include_key_material == "ALL_KEY_MATERIAL"
    limit = paging.check_limit(limit, "ListKeyRotations")
    doc = keyring.load_key(resolve_key_id(keyring, key_id))
    meta = doc["metadata"]
    check_rotatable(meta, imported_ok=True)
    imported = meta.get("Origin") == "EXTERNAL"
    rotations = [m for m in materials.records(doc) if every or m.get("RotationType") in (AUTOMATIC, ON_DEMAND)]
    when = now(keyring)
    start = 0
    if marker is not None:
        ids = [m.get("KeyMaterialId") for m in rotations]
        if marker not in ids:
            raise InvalidMarkerException("the marker is not one that list-key-rotations returned")
        start = ids.index(marker)

    def row(m: dict) -> dict:
        result = {"KeyId": meta["KeyId"], "KeyMaterialId": m.get("KeyMaterialId")}
        if imported:  # as AWS: these members only for keys with imported material
            if m.get("KeyMaterialDescription"):
                result["KeyMaterialDescription"] = m["KeyMaterialDescription"]
            result["ImportState"] = materials.import_state(m, when)
        if m.get("PendingRotation"):
            result["KeyMaterialState"] = "PENDING_ROTATION"
        elif m.get("KeyMaterialId") == meta.get("CurrentKeyMaterialId"):
            result["KeyMaterialState"] = "CURRENT"
        else:
            result["KeyMaterialState"] = "NON_CURRENT"
        if imported and m.get("ExpirationModel"):
            result["ExpirationModel"] = m["ExpirationModel"]
            if m["ExpirationModel"] == "KEY_MATERIAL_EXPIRES" and m.get("ValidTo"):
                result["ValidTo"] = m["ValidTo"]
        if m.get("RotationType") in (AUTOMATIC, ON_DEMAND):  # absent for the first material and pending ones
            result["RotationDate"] = m.get("RotationDate") or m.get("CreationDate")
            result["RotationType"] = m["RotationType"]
        return result

    return paging.page(
        rotations, start=start, limit=limit, field="Rotations", row=row, marker_of=lambda m: m.get("KeyMaterialId")
    )
