"""The key materials of a key with imported material (Origin EXTERNAL), as AWS has them since 2025.

A symmetric encryption key can hold several imported materials: the CURRENT one encrypts,
NON_CURRENT ones only decrypt, and new material imported for rotation waits as
PENDING_ROTATION until rotate-key-on-demand makes it current. Each material has its own
expiration; the key's ExpirationModel and ValidTo (DescribeKey) sum them up: ValidTo is the
earliest expiry of any material permanently associated with the key. A material that was
deleted (or has expired) is remembered, so that only the same bytes are imported again; until
every associated material is there again the key is PendingImport.

Stored in the key document, inside format version 1 (the fields are additive):

- ``materials``: the wrapped materials, each with ``ExpirationModel``, ``ValidTo``,
  ``KeyMaterialDescription``, ``PendingRotation``, and ``RotationType``/``RotationDate``
  once rotated in. Every entry here holds wrapped material, as for any other key, so
  whatever walks the materials (unwrapping, rewrapping) needs no special case.
- ``deleted_materials``: the same records without the wrapped secret, for deleted material.

Key files written before 2025's features (one material, the expiration on the metadata)
read as one material with the key's expiration."""

from __future__ import annotations

from .keydoc import ENABLED, PENDING_IMPORT, parse_date

_SECRET_FIELDS = ("nonce", "wrapped", "PublicKey")


def _present(doc: dict) -> list[dict]:
    return [m for m in doc.get("materials", []) if isinstance(m, dict)]


def _deleted(doc: dict) -> list[dict]:
    deleted = doc.get("deleted_materials")
    return [m for m in deleted if isinstance(m, dict)] if isinstance(deleted, list) else []


def associated_ids(doc: dict, *, pending: bool = True) -> set[str]:
    """Ids of every material the key has had and not dropped (with PENDING_ROTATION ones
    unless ``pending`` is False); also the id remembered by key files from before 2025."""
    ids = {m.get("KeyMaterialId") for m in _present(doc) + _deleted(doc) if pending or not m.get("PendingRotation")}
    remembered = doc["metadata"].get("ImportedKeyMaterialId")
    if remembered:
        ids.add(remembered)
    ids.discard(None)
    return ids


def pending_rotation(doc: dict) -> dict | None:
    return next((m for m in _present(doc) if m.get("PendingRotation")), None)


def place(
    doc: dict,
    entry: dict,
    *,
    expiration_model: str,
    valid_to: str | None,
    description: str | None,
    pending_rotation: bool,
) -> None:
    """Put a newly imported (or re-imported) material in place. A re-import keeps what the
    material was: its first CreationDate, rotation, state and, unless given, description."""
    material_id = entry["KeyMaterialId"]
    before = next((m for m in _present(doc) + _deleted(doc) if m.get("KeyMaterialId") == material_id), None)
    if before is not None:
        for kept in ("CreationDate", "Order", "RotationType", "RotationDate", "PendingRotation", "KeyMaterialDescription"):
            if kept in before:
                entry[kept] = before[kept]
    else:  # the order materials came in: several can come within one second
        entry["Order"] = 1 + max((m.get("Order", 0) for m in _present(doc) + _deleted(doc)), default=0)
    entry["ExpirationModel"] = expiration_model
    entry.pop("ValidTo", None)
    if valid_to is not None:
        entry["ValidTo"] = valid_to
    if description is not None:
        entry["KeyMaterialDescription"] = description
    if pending_rotation:
        entry["PendingRotation"] = True
    doc["materials"] = [m for m in _present(doc) if m.get("KeyMaterialId") != material_id] + [entry]
    _set_deleted(doc, [m for m in _deleted(doc) if m.get("KeyMaterialId") != material_id])


def remove(doc: dict, material_id: str) -> dict | None:
    """Delete a material: forgotten when it was only PENDING_ROTATION, else remembered
    without its secret. The record removed, or None when it was not there."""
    entry = next((m for m in _present(doc) if m.get("KeyMaterialId") == material_id), None)
    if entry is None:
        return None
    doc["materials"] = [m for m in _present(doc) if m is not entry]
    if not entry.get("PendingRotation"):
        record = {k: v for k, v in entry.items() if k not in _SECRET_FIELDS}
        _set_deleted(doc, _deleted(doc) + [record])
    return entry


def _set_deleted(doc: dict, deleted: list[dict]) -> None:
    if deleted:
        doc["deleted_materials"] = deleted
    else:
        doc.pop("deleted_materials", None)


def has_all_material(doc: dict) -> bool:
    """Whether the key's current material and every other associated one are here: a key
    with imported material is PendingImport until they are."""
    current = doc["metadata"].get("CurrentKeyMaterialId")
    return bool(current) and any(m.get("KeyMaterialId") == current for m in _present(doc)) and not _deleted(doc)


def settle(doc: dict) -> None:
    """The key's ExpirationModel, ValidTo and state from its materials, after a change."""
    meta = doc["metadata"]
    present = _present(doc)
    for entry in present:  # a key file from before 2025: its one material has the key's expiry
        if "ExpirationModel" not in entry and meta.get("ExpirationModel"):
            entry["ExpirationModel"] = meta["ExpirationModel"]
            if meta.get("ValidTo"):
                entry["ValidTo"] = meta["ValidTo"]
    associated = [m for m in present if not m.get("PendingRotation")]
    expiring = [m["ValidTo"] for m in associated if m.get("ExpirationModel") == "KEY_MATERIAL_EXPIRES" and m.get("ValidTo")]
    meta.pop("ValidTo", None)
    meta.pop("ExpirationModel", None)
    if associated:
        meta["ExpirationModel"] = "KEY_MATERIAL_EXPIRES" if expiring else "KEY_MATERIAL_DOES_NOT_EXPIRE"
        if expiring:
            meta["ValidTo"] = min(expiring, key=lambda t: parse_date(t, f"ValidTo of key {meta['KeyId']}"))
    if meta.get("KeyState") == PENDING_IMPORT and has_all_material(doc):
        meta["KeyState"] = ENABLED


def records(doc: dict) -> list[dict]:
    """Every material the key holds or awaits, oldest first; each says whether it is
    ``present`` (its secret is here)."""
    rows = [dict(m, present=True) for m in _present(doc)] + [dict(m, present=False) for m in _deleted(doc)]
    return sorted(rows, key=lambda m: m.get("Order", 0) if isinstance(m.get("Order"), int) else 0)


def import_state(record: dict, when) -> str:
    """IMPORTED, or PENDING_IMPORT for material deleted or past its ValidTo."""
    if not record.get("present"):
        return "PENDING_IMPORT"
    if record.get("ExpirationModel") == "KEY_MATERIAL_EXPIRES" and record.get("ValidTo"):
        if parse_date(record["ValidTo"], "ValidTo of key material") <= when:
            return "PENDING_IMPORT"
    return "IMPORTED"
