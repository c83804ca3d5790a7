"""CreateKey, DescribeKey, ListKeys, and the key-loading rules every operation shares."""

from __future__ import annotations

import os

from .. import specs
from ..errors import (
    DisabledException,
    InvalidKeyUsageException,
    InvalidMarkerException,
    KeyringDamagedException,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
)
from ..keyring import Keyring, is_key_id
from ..keyring import format as fmt
from .keydoc import DISABLED, ENABLED, PENDING_DELETION, PENDING_IMPORT, iso, now, parse_date
from .request import takes
from .resolve import resolve_key_id

RESOURCE_OWNERS = ("SELF", "OTHER_ACCOUNTS_VIA_RAM")


# --- validation of the catalogue ------------------------------------------------------------


def key_spec(name: str) -> specs.KeySpec:
    spec = specs.KEY_SPECS.get(name)
    if spec is None:
        raise ValidationException(
            f"KeySpec {name!r} is not valid; choose one of: {', '.join(specs.KEY_SPECS)}"
        )
    return spec


def check_spec_usage(spec: specs.KeySpec, usage: str | None) -> str:
    """The usage to create ``spec`` with; an invalid pair is refused with the valid choices."""
    if spec.unsupported:
        raise UnsupportedOperationException(f"KeySpec {spec.name} is not supported: {spec.unsupported}")
    # AWS's KeyUsage defaults to ENCRYPT_DECRYPT; a spec that cannot encrypt must be given
    # one. (The CLI's --key-usage has its own defaults per spec: cli-contract.md.) Wording
    # recorded from AWS KMS: tests/test_aws_recorded.py.
    if usage is None:
        if specs.ENCRYPT_DECRYPT not in spec.usages:
            raise ValidationException(
                "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.",
                hint=f"valid: {', '.join(spec.usages)} (see kmscli create-key --help)",
            )
        usage = specs.ENCRYPT_DECRYPT
    if usage not in spec.usages:
        raise ValidationException(
            f"KeyUsage {usage} is not compatible with KeySpec {spec.name}",
            hint=f"valid: {', '.join(spec.usages)} (see kmscli create-key --help)",
        )
    return usage


def algorithms_of(meta: dict) -> tuple[str, ...]:
    return specs.KEY_SPECS[meta["KeySpec"]].algorithms[meta["KeyUsage"]]


def check_algorithm(meta: dict, algorithm: str, kind: str) -> None:
    """InvalidKeyUsageException, with the key's valid algorithms, unless it supports ``algorithm``."""
    valid = algorithms_of(meta)
    if algorithm not in valid:
        raise InvalidKeyUsageException(  # AWS's words (tests/test_aws_recorded.py)
            f"Algorithm {algorithm} is incompatible with key spec {meta['KeySpec']}.",
            hint=f"valid: {', '.join(valid)} (see kmscli describe-key --key-id {meta['KeyId']})",
        )


# --- metadata as AWS shows it ----------------------------------------------------------------


def material_expired(keyring: Keyring, meta: dict) -> bool:
    """Whether imported material has passed its ValidTo. AWS then deletes it and the key
    is PendingImport; here the key file is left as it is (a read never writes) and every
    reader sees the key as PendingImport, until material is imported again."""
    if meta.get("ExpirationModel") != "KEY_MATERIAL_EXPIRES" or not meta.get("ValidTo"):
        return False
    return parse_date(meta["ValidTo"], f"ValidTo of key {meta.get('KeyId')}") <= keyring.clock()


def key_state(keyring: Keyring, meta: dict) -> str:
    """The key's state as AWS would report it now (expired imported material: PendingImport)."""
    state = meta["KeyState"]
    if state in (ENABLED, DISABLED) and material_expired(keyring, meta):
        return PENDING_IMPORT
    return state


def key_metadata(keyring: Keyring, doc: dict) -> dict:
    """KeyMetadata as DescribeKey returns it, derived from the stored fields."""
    meta = doc["metadata"]
    spec = specs.KEY_SPECS.get(meta.get("KeySpec"))
    if spec is None or meta.get("KeyUsage") not in spec.algorithms:
        raise KeyringDamagedException(f"key file {meta.get('KeyId')} names an unknown spec or usage")
    state = key_state(keyring, meta)
    result = {
        "AWSAccountId": keyring.account_id,
        "KeyId": meta["KeyId"],
        "Arn": keyring.key_arn(meta["KeyId"]),
        "CreationDate": meta["CreationDate"],
        "Enabled": state == ENABLED,
        "Description": meta.get("Description", ""),
        "KeyUsage": meta["KeyUsage"],
        "KeyState": state,
        "Origin": meta["Origin"],
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": meta["KeySpec"],
        "KeySpec": meta["KeySpec"],
        specs.ALGORITHM_FIELD[meta["KeyUsage"]]: list(spec.algorithms[meta["KeyUsage"]]),
        "MultiRegion": False,
    }
    # As AWS: CurrentKeyMaterialId only for symmetric encryption keys (the keys that rotate
    # and so can have several materials). PendingDeletionWindowInDays, which the key file
    # keeps, is not shown: AWS shows it only for a multi-Region primary key in state
    # PendingReplicaDeletion, which kmscli has not; DeletionDate says when.
    shown = ("CurrentKeyMaterialId", "DeletionDate", "ValidTo", "ExpirationModel")
    for optional in shown:
        if optional == "CurrentKeyMaterialId" and spec.name != specs.SYMMETRIC_DEFAULT:
            continue
        if state == PENDING_IMPORT and optional in ("CurrentKeyMaterialId", "ValidTo", "ExpirationModel"):
            continue  # no usable material: what described it is gone, as in AWS
        if optional == "CurrentKeyMaterialId" and not any(
            isinstance(m, dict) and m.get("KeyMaterialId") == meta.get(optional) for m in doc.get("materials", [])
        ):
            continue  # its imported material was deleted (a key pending deletion keeps its state)
        if meta.get(optional) is not None:
            result[optional] = meta[optional]
    return result


# --- operations -----------------------------------------------------------------------------


@takes(
    "CreateKey",
    "Policy",
    "BypassPolicyLockoutSafetyCheck",
    "MultiRegion",
    "CustomKeyStoreId",
    "XksKeyId",
    refusal=UnsupportedOperationException,
)
def create_key(
    keyring: Keyring,
    *,
    key_spec_name: str | None = None,
    key_usage: str | None = None,
    description: str = "",
    tags: list[dict] | None = None,
    origin: str = "AWS_KMS",
    customer_master_key_spec: str | None = None,
) -> dict:
    spec = key_spec(spec_name(key_spec_name, customer_master_key_spec))
    usage = check_spec_usage(spec, key_usage)
    if len(description) > specs.DESCRIPTION_MAX:
        raise ValidationException(f"Description is longer than {specs.DESCRIPTION_MAX} characters")
    if origin not in specs.ORIGINS:
        raise ValidationException(f"Origin {origin!r} is not valid; valid: {', '.join(specs.ORIGINS)}")
    tags = list(tags or [])
    from .tags import check_tags  # the tag rules live with the tag operations

    check_tags(tags)
    import uuid

    key_id = str(uuid.uuid4())
    created = iso(now(keyring))
    meta = {
        "KeyId": key_id,
        "KeySpec": spec.name,
        "KeyUsage": usage,
        "Origin": origin,
        # EXTERNAL: no material until import-key-material (service/importing.py) brings it.
        "KeyState": ENABLED if origin == "AWS_KMS" else PENDING_IMPORT,
        "Description": description,
        "CreationDate": created,
    }
    material = generate_material(spec) if origin == "AWS_KMS" else None
    with keyring.transaction():
        entries = []
        if material is not None:
            entries.append(new_material_entry(keyring, meta, spec, material, created))
            meta["CurrentKeyMaterialId"] = entries[0]["KeyMaterialId"]
        doc = {"format": fmt.KEY_KIND, "version": fmt.FORMAT_VERSION, "metadata": meta, "materials": entries}
        if tags:
            doc["tags"] = {t["TagKey"]: t["TagValue"] for t in tags}
        keyring.save_key(doc, new=True)
    return {"KeyMetadata": key_metadata(keyring, doc)}


def spec_name(key_spec: str | None, customer_master_key_spec: str | None) -> str:
    """KeySpec, or CustomerMasterKeySpec, its deprecated synonym (AWS: "use only one");
    both are accepted when they agree."""
    if key_spec is not None and customer_master_key_spec is not None and key_spec != customer_master_key_spec:
        raise ValidationException(
            "KeySpec and CustomerMasterKeySpec (its deprecated synonym) name different key specs; give only KeySpec"
        )
    return key_spec or customer_master_key_spec or specs.SYMMETRIC_DEFAULT


def generate_material(spec: specs.KeySpec) -> bytes:
    if spec.family in ("SYMMETRIC", "HMAC"):
        return os.urandom(spec.size)
    from ..crypto import asymmetric  # imported only for asymmetric keys: list-keys never pays for it

    return asymmetric.generate_private_key(spec)


def new_material_entry(
    keyring: Keyring, meta: dict, spec: specs.KeySpec, material: bytes, now: str, material_id: str | None = None
) -> dict:
    """A wrapped material entry, with its public key in the clear for asymmetric specs."""
    entry = keyring.wrap_material(meta, material_id or os.urandom(32).hex(), material)
    entry["CreationDate"] = now
    if spec.asymmetric:
        from ..crypto import asymmetric

        entry["PublicKey"] = fmt.b64e(asymmetric.public_key_der(material))
    return entry


@takes("DescribeKey", "GrantTokens")
def describe_key(keyring: Keyring, key_id: str) -> dict:
    """DescribeKey: exactly AWS's KeyMetadata (a key's aliases are list-aliases' business,
    or key_details' for a person at a terminal)."""
    doc = keyring.load_key(resolve_key_id(keyring, key_id))
    return {"KeyMetadata": key_metadata(keyring, doc)}


def aliases_of_key(keyring: Keyring, key_id: str) -> list[str]:
    """The names of a key's aliases, sorted (the alias index: no other alias is read)."""
    return [row[0] for row in keyring.alias_rows_of_key(key_id)]


def key_details(keyring: Keyring, key_ids) -> dict[str, dict]:
    """kmscli's own detail of each key, for a person at a terminal (list-keys --detail and
    --output table): what AWS's ListKeys leaves to DescribeKey and ListAliases. Not an AWS
    shape; it reads every key file named, which ListKeys itself never needs to."""
    details = {}
    for key_id in key_ids:
        meta = keyring.load_key(key_id)["metadata"]
        details[key_id] = {
            "KeySpec": meta.get("KeySpec"),
            "KeyUsage": meta.get("KeyUsage"),
            "KeyState": key_state(keyring, meta) if meta.get("KeyState") else None,
            "CreationDate": meta.get("CreationDate"),
            "Description": meta.get("Description", ""),
            "Aliases": aliases_of_key(keyring, key_id),
        }
    return details


def check_resource_owners(resource_owners) -> list[str]:
    owners = list(resource_owners) if resource_owners is not None else ["SELF"]
    if isinstance(resource_owners, str) or not 1 <= len(owners) <= 2 or len(set(owners)) != len(owners):
        raise ValidationException("ResourceOwners takes one or two different values: SELF, OTHER_ACCOUNTS_VIA_RAM")
    for owner in owners:
        if owner not in RESOURCE_OWNERS:
            raise ValidationException(
                f"ResourceOwners {str(owner)[:40]!r} is not valid; valid: {', '.join(RESOURCE_OWNERS)}"
            )
    return owners


def list_keys(
    keyring: Keyring, *, limit: int | None = None, marker: str | None = None, resource_owners=None
) -> dict:
    """ListKeys, paginated as AWS: ``NextMarker`` is the key id the next page starts at (a
    marker whose key was deleted meanwhile still continues the listing, and keys created
    meanwhile never shift a page). Each entry is AWS's KeyListEntry (KeyId, KeyArn): no key
    file is read. The ids of a page come from the keyring's index, so a page costs the same
    at 100,000 keys as at 100.

    ResourceOwners: no other account shares keys with a local keyring through RAM, so
    OTHER_ACCOUNTS_VIA_RAM alone lists none, and with SELF adds none."""
    from . import paging  # the listings only

    limit = paging.check_limit(limit, "ListKeys")
    owners = check_resource_owners(resource_owners)
    if marker is not None and not is_key_id(marker):
        raise InvalidMarkerException("the marker is not one that list-keys returned")
    ids = keyring.key_ids_from(marker or "", limit + 1) if "SELF" in owners else []
    arn = keyring.key_arn("")  # the ARN of every key but its id

    def row(key_id: str) -> dict:
        return {"KeyId": key_id, "KeyArn": arn + key_id}

    return paging.page(ids, start=0, limit=limit, field="Keys", row=row)


# --- loading a key for a cryptographic operation ---------------------------------------------------


def usable_key(keyring: Keyring, key_id: str, usage: str, operation: str) -> dict:
    """The verified document of an enabled key of ``usage``, or the error AWS would give
    ``operation`` (AWS's name for it, which AWS's message names)."""
    # Unlock before resolving: an alias is then read with its integrity checked, so an
    # aliases.toml edited to point alias/NAME at another key is refused, not followed.
    keyring.master_key
    doc = keyring.load_key(resolve_key_id(keyring, key_id), verify=True)
    meta = doc["metadata"]
    check_usable_state(keyring, doc)
    if meta["KeyUsage"] != usage:
        raise InvalidKeyUsageException(  # AWS's words (tests/test_aws_recorded.py)
            f"{keyring.key_arn(meta['KeyId'])} key usage is {meta['KeyUsage']} which is not valid for {operation}."
        )
    return doc


def check_usable_state(keyring: Keyring, doc: dict) -> None:
    """The error AWS gives for a key that is not Enabled, with the command that gets it out."""
    meta = doc["metadata"]
    key_id = meta["KeyId"]
    state = key_state(keyring, meta)
    if state == ENABLED:
        return
    if state == DISABLED:
        raise DisabledException(state_words(keyring, key_id, state), hint=f"enable it with: kmscli enable-key --key-id {key_id}")
    if state == PENDING_IMPORT:
        raise KMSInvalidStateException(
            state_words(keyring, key_id, state),
            hint=f"import its material with: kmscli get-parameters-for-import --key-id {key_id} ...",
        )
    hint = f"cancel the deletion first: kmscli cancel-key-deletion --key-id {key_id}" if state == PENDING_DELETION else None
    raise KMSInvalidStateException(state_words(keyring, key_id, state), hint=hint)


_STATE_WORDS = {DISABLED: "is disabled.", PENDING_IMPORT: "is pending import.", PENDING_DELETION: "is pending deletion."}


def state_words(keyring: Keyring, key_id: str, state: str) -> str:
    """AWS's sentence for a key in a state that refuses the operation: its ARN, then the
    state (recorded from AWS KMS: tests/test_aws_recorded.py)."""
    return f"{keyring.key_arn(key_id)} {_STATE_WORDS.get(state, f'is in state {state}.')}"


def material(keyring: Keyring, doc: dict, material_id: str | None = None) -> bytes:
    """The unwrapped material ``material_id`` (default: the current one)."""
    meta = doc["metadata"]
    wanted = material_id or meta.get("CurrentKeyMaterialId")
    for entry in doc.get("materials", []):
        if isinstance(entry, dict) and entry.get("KeyMaterialId") == wanted:
            return keyring.unwrap_material(meta, entry)
    if material_id is None:
        raise KeyringDamagedException(f"key file {meta['KeyId']} has no current key material")
    raise LookupError(material_id)


def public_key_bytes(doc: dict) -> bytes:
    """The current material's DER SubjectPublicKeyInfo, stored in the clear beside it."""
    meta = doc["metadata"]
    for entry in doc.get("materials", []):
        if entry.get("KeyMaterialId") == meta.get("CurrentKeyMaterialId"):
            return fmt.b64d(entry.get("PublicKey"), f"public key of {meta['KeyId']}")
    raise KeyringDamagedException(f"key file {meta['KeyId']} has no current key material")
