"""GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial (Origin EXTERNAL).

The flow is AWS's, byte for byte, so a script written for AWS KMS works unchanged:

1. get_parameters_for_import makes an RSA wrapping key pair for one key, stores the private
   half in the key's file wrapped under the master key (bound to the key's identity and to
   these parameters' id), and returns the public half with an import token, both valid
   24 hours. The token is AES-256-GCM sealed under a sub-key of the master key: it names the
   key and the parameters, and nobody without the passphrase can forge or alter one.
2. import_key_material checks the token, unwraps the user's material with the stored private
   key (keywrap.py: RSAES-OAEP, or RSA-OAEP + RFC 5649), checks that it is material of the
   key's spec, and stores it wrapped like any other material.
3. delete_imported_key_material drops the material; the key returns to PendingImport (a key
   pending deletion stays PendingDeletion, as in AWS).

A KeyMaterialId is an HMAC of the material under a sub-key of the master key (a keyed
fingerprint, so the id reveals nothing about the material), remembered after a delete, so
only the same bytes can be imported again under it. Because the id depends only on the
material, ciphertexts made before a delete name the same KeyMaterialId after a re-import of
the same bytes, and still decrypt. An asymmetric or HMAC key only ever holds the material
first imported into it; a symmetric encryption key can hold several (AWS, 2025): see
service/materials.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets

from .. import crypto, specs
from ..crypto import aead, asymmetric, keywrap, mac
from ..errors import (
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from ..keyring import Keyring
from ..keyring.clock import assume_utc, parse_instant
from ..keyring.format import canonical
from . import materials
from .keydoc import DISABLED, ENABLED, PENDING_DELETION, PENDING_IMPORT, now
from .keys import key_state, new_material_entry
from .resolve import resolve_key_id

TOKEN_VERSION = 1
TOKEN_LABEL = b"kmscli v1 import token"
TOKEN_AAD = b"kmscli v1 import token"
from ..keyring.format import MATERIAL_ID_LABEL  # noqa: E402,F401 - tests import it from here
from ..keyring.format import WRAPPING_KEY_PREFIX  # noqa: E402 - keeps wrapping keys apart from key material


# --- shared checks -----------------------------------------------------------------------------


def _external_key(keyring: Keyring, key_id: str) -> dict:
    doc = keyring.load_key(resolve_key_id(keyring, key_id), verify=True)
    meta = doc["metadata"]
    if meta.get("Origin") != "EXTERNAL":
        raise UnsupportedOperationException(  # AWS's words (tests/test_aws_recorded.py)
            f"{keyring.key_arn(meta['KeyId'])} origin is {meta.get('Origin')} which is not valid for this operation.",
            hint="create one with: kmscli create-key --origin EXTERNAL --key-spec ...",
        )
    return doc


def _material_id(keyring: Keyring, key_id: str, material: bytes) -> str:
    # HMAC-SHA-256 through crypto.mac, as every other HMAC of kmscli (the same bytes as the
    # stdlib's hmac, which the ids of existing keys were made with).
    return mac.hmac_sha("SHA_256", keyring.subkey(MATERIAL_ID_LABEL), key_id.encode() + b"\x00" + material).hex()


# --- GetParametersForImport ----------------------------------------------------------------------


def get_parameters_for_import(
    keyring: Keyring, key_id: str, *, wrapping_algorithm: str, wrapping_key_spec: str
) -> dict:
    if wrapping_algorithm not in specs.WRAPPING_ALGORITHMS:
        raise ValidationException(
            f"WrappingAlgorithm {wrapping_algorithm!r} is not valid; valid: {', '.join(specs.WRAPPING_ALGORITHMS)}"
        )
    if wrapping_key_spec not in specs.WRAPPING_KEY_SPECS:
        raise ValidationException(
            f"WrappingKeySpec {wrapping_key_spec!r} is not valid; valid: {', '.join(specs.WRAPPING_KEY_SPECS)}"
        )
    doc = _external_key(keyring, key_id)
    _check_parameters_state(keyring, doc["metadata"])
    wrapping_private = asymmetric.generate_private_key(specs.KEY_SPECS[wrapping_key_spec])
    valid_to = (now(keyring) + dt.timedelta(seconds=specs.IMPORT_PARAMETERS_VALID_SECONDS)).isoformat()
    parameters_id = secrets.token_hex(16)
    with keyring.transaction():
        doc = _external_key(keyring, doc["metadata"]["KeyId"])  # re-read under the lock
        meta = doc["metadata"]
        _check_parameters_state(keyring, meta)
        wrapped = keyring.wrap_material(meta, WRAPPING_KEY_PREFIX + parameters_id, wrapping_private)
        # Only the newest parameters are kept: a token from an earlier call is refused.
        doc["import_parameters"] = {
            "ParametersId": parameters_id,
            "WrappingAlgorithm": wrapping_algorithm,
            "WrappingKeySpec": wrapping_key_spec,
            "ParametersValidTo": valid_to,
            "nonce": wrapped["nonce"],
            "wrapped": wrapped["wrapped"],
        }
        keyring.save_key(doc)
    token_fields = {
        "KeyId": meta["KeyId"],
        "ParametersId": parameters_id,
        "WrappingAlgorithm": wrapping_algorithm,
        "WrappingKeySpec": wrapping_key_spec,
        "ParametersValidTo": valid_to,
    }
    return {
        "KeyId": keyring.key_arn(meta["KeyId"]),
        "ImportToken": _seal_token(keyring, token_fields),
        "PublicKey": asymmetric.public_key_der(wrapping_private),
        "ParametersValidTo": valid_to,
    }


def _check_parameters_state(keyring: Keyring, meta: dict) -> None:
    state = key_state(keyring, meta)
    if state not in (PENDING_IMPORT, ENABLED, DISABLED):
        raise KMSInvalidStateException(f"key {meta['KeyId']} is in state {state}")


def _seal_token(keyring: Keyring, fields: dict) -> bytes:
    nonce, sealed = aead.seal(keyring.subkey(TOKEN_LABEL), canonical(fields), TOKEN_AAD)
    return bytes([TOKEN_VERSION]) + nonce + sealed


def _open_token(keyring: Keyring, token: bytes) -> dict:
    """The fields of a token this keyring issued, or InvalidImportTokenException."""
    invalid = InvalidImportTokenException(
        "the import token is not valid: it was not issued by get-parameters-for-import on this keyring, "
        "or it was altered",
        hint="get a new one with: kmscli get-parameters-for-import --key-id KEY ...",
    )
    if len(token) < 1 + aead.NONCE_SIZE + aead.TAG_SIZE or token[0] != TOKEN_VERSION:
        raise invalid
    nonce, sealed = token[1 : 1 + aead.NONCE_SIZE], token[1 + aead.NONCE_SIZE :]
    try:
        fields = json.loads(aead.open_(keyring.subkey(TOKEN_LABEL), nonce, sealed, TOKEN_AAD))
    except (crypto.CryptoFailure, ValueError):
        raise invalid from None
    if not isinstance(fields, dict):
        raise invalid
    return fields


# --- ImportKeyMaterial ---------------------------------------------------------------------------

IMPORT_TYPES = ("NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL")
_MATERIAL_ID = re.compile(r"[a-f0-9]{64}")
_DESCRIPTION = re.compile(r"[a-zA-Z0-9:/_\s.-]+")
KEY_MATERIAL_DESCRIPTION_MAX = 256


def _check_import_options(spec: specs.KeySpec, import_type, key_material_id, description) -> None:
    """AWS's rules for the 2025 members: each is for symmetric encryption keys only, and a
    KeyMaterialId names material already associated, so never goes with NEW_KEY_MATERIAL."""
    if import_type is not None and import_type not in IMPORT_TYPES:
        raise ValidationException(f"ImportType {str(import_type)[:40]!r} is not valid; valid: {', '.join(IMPORT_TYPES)}")
    if key_material_id is not None and not (isinstance(key_material_id, str) and _MATERIAL_ID.fullmatch(key_material_id)):
        raise ValidationException("KeyMaterialId must be 64 lower-case hexadecimal digits")
    if description is not None and (
        not isinstance(description, str)
        or len(description) > KEY_MATERIAL_DESCRIPTION_MAX
        or (description and not _DESCRIPTION.fullmatch(description))
    ):
        raise ValidationException(
            f"KeyMaterialDescription must be at most {KEY_MATERIAL_DESCRIPTION_MAX} letters, digits, spaces and : / _ . -"
        )
    given = [n for n, v in (("ImportType", import_type), ("KeyMaterialId", key_material_id),
                            ("KeyMaterialDescription", description)) if v is not None]
    if given and spec.name != specs.SYMMETRIC_DEFAULT:
        raise ValidationException(
            f"{', '.join(given)} can be used only with symmetric encryption keys, not {spec.name}: "
            "other keys hold only the material first imported into them"
        )
    if import_type == "NEW_KEY_MATERIAL" and key_material_id is not None:
        raise ValidationException("KeyMaterialId cannot be given with ImportType NEW_KEY_MATERIAL: new material has no id yet")


def import_key_material(
    keyring: Keyring,
    key_id: str,
    *,
    import_token: bytes,
    encrypted_key_material: bytes,
    expiration_model: str | None = None,
    valid_to: str | dt.datetime | int | float | None = None,
    import_type: str | None = None,
    key_material_description: str | None = None,
    key_material_id: str | None = None,
) -> dict:
    """ImportKeyMaterial, with AWS's 2025 rules for symmetric encryption keys: several
    materials per key (materials.py). The first import makes the current material; later
    ones re-import material already associated (EXISTING_KEY_MATERIAL, the default then:
    to restore deleted or expired material, or to change its expiration), or bring new
    material (NEW_KEY_MATERIAL), which waits in PENDING_ROTATION for rotate-key-on-demand."""
    if not 1 <= len(import_token) <= specs.IMPORT_TOKEN_MAX:
        raise ValidationException(f"ImportToken must be 1 to {specs.IMPORT_TOKEN_MAX} bytes")
    if not 1 <= len(encrypted_key_material) <= specs.ENCRYPTED_KEY_MATERIAL_MAX:
        raise ValidationException(
            f"EncryptedKeyMaterial must be 1 to {specs.ENCRYPTED_KEY_MATERIAL_MAX} bytes"
        )
    when = now(keyring)
    expiration_model, expires = _expiration(expiration_model, valid_to, when)
    doc = _external_key(keyring, key_id)
    meta = doc["metadata"]
    spec = specs.KEY_SPECS[meta["KeySpec"]]
    _check_import_options(spec, import_type, key_material_id, key_material_description)
    _check_import_state(keyring, meta)
    fields = _open_token(keyring, import_token)
    if fields.get("KeyId") != meta["KeyId"]:
        raise InvalidImportTokenException(
            f"the import token was issued for another key, not {meta['KeyId']}",
            hint=f"get one for this key with: kmscli get-parameters-for-import --key-id {meta['KeyId']} ...",
        )
    try:
        token_valid_to = parse_instant(fields["ParametersValidTo"])
    except (KeyError, TypeError, ValueError):
        raise InvalidImportTokenException("the import token is not valid") from None
    if token_valid_to <= when:
        raise ExpiredImportTokenException(
            f"the import token expired at {fields['ParametersValidTo']} (tokens are valid 24 hours)",
            hint=f"get a new one with: kmscli get-parameters-for-import --key-id {meta['KeyId']} ...",
        )
    params = _current_parameters(doc, fields)
    wrapping_private = keyring.unwrap_material(
        meta,
        {"KeyMaterialId": WRAPPING_KEY_PREFIX + params["ParametersId"], "nonce": params.get("nonce"), "wrapped": params.get("wrapped")},
    )
    hash_name, two_phase = specs.WRAPPING_ALGORITHMS[params["WrappingAlgorithm"]]
    try:
        material = keywrap.unwrap(wrapping_private, hash_name, two_phase, encrypted_key_material)
    except keywrap.PiecewiseWrap:
        raise InvalidCiphertextException(
            "the key material was wrapped in separate 4096-byte pieces (as `openssl enc "
            "-id-aes256-wrap-pad` does for material over 4096 bytes), not as one RFC 5649 wrap",
            hint="wrap it in one piece, e.g. with Python's cryptography: see docs/import.md, material over 4 KiB",
            wire_message=None,  # not a ciphertext's opaque failure: an endpoint says what was wrong
        ) from None
    except crypto.CryptoFailure:
        # AWS's own word for "could not decrypt the wrapped key material".
        raise InvalidCiphertextException(
            "the encrypted key material could not be unwrapped: it was not wrapped with this "
            f"import token's public key using {params['WrappingAlgorithm']}",
            hint=_wrapping_hint(params["WrappingAlgorithm"]),
            wire_message=None,  # not a ciphertext's opaque failure: an endpoint says what was wrong
        ) from None
    material = _checked_material(spec, material)
    material_id = _material_id(keyring, meta["KeyId"], material)
    if key_material_id is not None and not secrets.compare_digest(key_material_id, material_id):
        raise IncorrectKeyMaterialException(
            f"the key material is not the material {key_material_id} of key {meta['KeyId']}",
            hint=f"see the key's materials with: kmscli list-key-rotations --key-id {meta['KeyId']} --include-key-material ALL_KEY_MATERIAL",
        )
    with keyring.transaction():
        doc = _external_key(keyring, meta["KeyId"])  # re-read under the lock
        meta = doc["metadata"]
        _check_import_state(keyring, meta)
        _current_parameters(doc, fields)
        known = materials.associated_ids(doc)
        first = not known
        kind = import_type or ("NEW_KEY_MATERIAL" if first else "EXISTING_KEY_MATERIAL")
        if kind == "EXISTING_KEY_MATERIAL" and material_id not in known:
            raise IncorrectKeyMaterialException(
                f"this is not key material that was imported into key {meta['KeyId']} before"
                + ("" if spec.name == specs.SYMMETRIC_DEFAULT else ": a key can only ever hold that same material"),
                hint=(
                    "import new material for rotation with: --import-type NEW_KEY_MATERIAL"
                    if spec.name == specs.SYMMETRIC_DEFAULT
                    else "import into a new key: kmscli create-key --origin EXTERNAL ..."
                ),
            )
        if kind == "NEW_KEY_MATERIAL" and not first:
            if material_id in known:
                raise IncorrectKeyMaterialException(
                    f"this key material is already associated with key {meta['KeyId']}",
                    hint="re-import it with: --import-type EXISTING_KEY_MATERIAL",
                )
            pending = materials.pending_rotation(doc)
            if pending is not None:
                raise KMSInvalidStateException(
                    f"key {meta['KeyId']} already has new key material {pending['KeyMaterialId']} waiting to rotate in",
                    hint=f"rotate to it with: kmscli rotate-key-on-demand --key-id {meta['KeyId']}, "
                    f"or delete it: kmscli delete-imported-key-material --key-id {meta['KeyId']} "
                    f"--key-material-id {pending['KeyMaterialId']}",
                )
        entry = new_material_entry(keyring, meta, spec, material, when.isoformat(), material_id)
        materials.place(
            doc,
            entry,
            expiration_model=expiration_model,
            valid_to=expires.isoformat() if expires is not None else None,
            description=key_material_description,
            pending_rotation=kind == "NEW_KEY_MATERIAL" and not first,
        )
        if first or not meta.get("CurrentKeyMaterialId"):
            meta["CurrentKeyMaterialId"] = material_id
        meta.setdefault("ImportedKeyMaterialId", material_id)  # the first one, as before 2025
        materials.settle(doc)
        keyring.save_key(doc)
    return {"KeyId": keyring.key_arn(meta["KeyId"]), "KeyMaterialId": material_id}


def _check_import_state(keyring: Keyring, meta: dict) -> None:
    """As AWS's key state table: material can be imported into a key PendingImport, Enabled
    or Disabled (to restore, re-import or add material), not one pending deletion."""
    state = key_state(keyring, meta)
    if state not in (PENDING_IMPORT, ENABLED, DISABLED):
        raise KMSInvalidStateException(
            f"key {meta['KeyId']} is in state {state}; key material cannot be imported now",
            hint=f"cancel the deletion first: kmscli cancel-key-deletion --key-id {meta['KeyId']}"
            if state == PENDING_DELETION
            else None,
        )


def _current_parameters(doc: dict, fields: dict) -> dict:
    params = doc.get("import_parameters")
    if not isinstance(params, dict) or params.get("ParametersId") != fields.get("ParametersId"):
        raise InvalidImportTokenException(
            "the import token is not the latest one for this key: a later get-parameters-for-import "
            "replaced it, or it was already replaced",
            hint="use the public key and import token of the latest get-parameters-for-import",
        )
    for field in ("WrappingAlgorithm", "WrappingKeySpec", "ParametersValidTo"):
        if params.get(field) != fields.get(field):
            raise InvalidImportTokenException("the import token does not match this key's import parameters")
    return params


def _wrapping_hint(algorithm: str) -> str:
    hash_name, two_phase = specs.WRAPPING_ALGORITHMS[algorithm]
    md = "sha1" if hash_name == "SHA_1" else "sha256"
    if two_phase:
        return (
            f"RSA_AES_KEY_WRAP: an AES-256 key RSA-OAEP ({md}) encrypted, then the material wrapped "
            "with it by AES key wrap with padding (openssl enc -id-aes256-wrap-pad)"
        )
    return f"wrap with: openssl pkeyutl -encrypt -pubin -keyform DER -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:{md} -pkeyopt rsa_mgf1_md:{md}"


def _checked_material(spec: specs.KeySpec, material: bytes) -> bytes:
    """The material as kmscli stores it, or IncorrectKeyMaterialException when it is not
    material for ``spec`` (never echoing any of it)."""
    if spec.family == "SYMMETRIC":
        if len(material) != specs.IMPORTED_SYMMETRIC_LENGTH:
            raise IncorrectKeyMaterialException(
                f"{spec.name} key material must be exactly {specs.IMPORTED_SYMMETRIC_LENGTH} bytes, not {len(material)}"
            )
        return material
    if spec.family == "HMAC":
        low, high = specs.IMPORTED_HMAC_LENGTHS[spec.name]
        if not low <= len(material) <= high:
            raise IncorrectKeyMaterialException(
                f"{spec.name} key material must be {low} to {high} bytes, not {len(material)}"
            )
        return material
    # RSA private keys need RSA_AES_KEY_WRAP_* (as AWS says) by arithmetic alone: the
    # smallest, about 1200 bytes, is more than RSA-OAEP can carry under any wrapping key.
    from ..crypto.mldsa_pkcs8 import ExpandedOnly

    try:
        return asymmetric.normalize_private_key(material, spec)
    except ExpandedOnly:
        raise IncorrectKeyMaterialException(
            f"an expanded-only {spec.name} private key cannot be imported: kmscli keeps ML-DSA keys "
            "as their 32-byte seed, which the expanded form does not contain",
            hint="import the PKCS #8 seed form, or the form holding both seed and expanded key (docs/import.md)",
        ) from None
    except crypto.CryptoFailure:
        # The same hint whatever the material was: an error says nothing about a secret.
        raise IncorrectKeyMaterialException(
            f"the key material is not a PKCS #8 DER private key of {spec.name}",
            hint="wrap the private key as PKCS #8 DER: openssl pkcs8 -topk8 -nocrypt -outform DER -in KEY.pem -out KEY.der",
        ) from None


def _expiration(model: str | None, valid_to, now: dt.datetime) -> tuple[str, dt.datetime | None]:
    """(ExpirationModel, ValidTo) by AWS's rules: the default model is KEY_MATERIAL_EXPIRES,
    which needs a ValidTo in the next 365 days; KEY_MATERIAL_DOES_NOT_EXPIRE takes none."""
    if model is not None and model not in specs.EXPIRATION_MODELS:
        raise ValidationException(
            f"ExpirationModel {model!r} is not valid; valid: {', '.join(specs.EXPIRATION_MODELS)}"
        )
    model = model or "KEY_MATERIAL_EXPIRES"
    if model == "KEY_MATERIAL_DOES_NOT_EXPIRE":
        if valid_to is not None:
            raise ValidationException("ValidTo must be omitted when ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
        return model, None
    if valid_to is None:
        raise ValidationException(
            "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES",  # AWS's words
            hint="pass --valid-to TIME, or --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE",
        )
    expires = parse_timestamp(valid_to, "ValidTo")
    if expires <= now:
        raise ValidationException("ValidTo must be in the future")
    if expires > now + dt.timedelta(days=specs.IMPORT_VALID_TO_MAX_DAYS):
        raise ValidationException(f"ValidTo must be at most {specs.IMPORT_VALID_TO_MAX_DAYS} days from now")
    return model, expires


def parse_timestamp(value, what: str) -> dt.datetime:
    """A timestamp as aws-cli takes one: ISO 8601 (UTC when no offset is given) or seconds
    since the epoch."""
    if isinstance(value, dt.datetime):
        result = assume_utc(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = dt.datetime.fromtimestamp(float(text), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            try:
                result = parse_instant(text.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                raise ValidationException(
                    f"{what} {value[:40]!r} is not a timestamp (ISO 8601, e.g. 2027-01-31T12:00:00Z, or epoch seconds)"
                ) from None
    else:
        raise ValidationException(f"{what} is not a timestamp")
    return result.astimezone(dt.timezone.utc).replace(microsecond=0)


# --- DeleteImportedKeyMaterial -------------------------------------------------------------------


def delete_imported_key_material(keyring: Keyring, key_id: str, *, key_material_id: str | None = None) -> dict:
    """Delete one imported material (default: the current one). Material associated with
    the key is remembered, so the same bytes can be imported again and the key is
    PendingImport until they are; new material still PENDING_ROTATION is not associated yet,
    and deleting it simply removes it (the key state does not change)."""
    if key_material_id is not None and not (isinstance(key_material_id, str) and _MATERIAL_ID.fullmatch(key_material_id)):
        raise ValidationException("KeyMaterialId must be 64 lower-case hexadecimal digits")
    doc = _external_key(keyring, key_id)
    with keyring.transaction():
        doc = _external_key(keyring, doc["metadata"]["KeyId"])  # re-read under the lock
        meta = doc["metadata"]
        state = key_state(keyring, meta)
        if state not in (ENABLED, DISABLED, PENDING_IMPORT, PENDING_DELETION):
            raise KMSInvalidStateException(f"key {meta['KeyId']} is in state {state}")
        wanted = key_material_id or meta.get("CurrentKeyMaterialId")
        if key_material_id is not None and key_material_id not in materials.associated_ids(doc, pending=True):
            raise NotFoundException(
                f"key {meta['KeyId']} has no key material {key_material_id}",
                hint=f"see its materials with: kmscli list-key-rotations --key-id {meta['KeyId']} --include-key-material ALL_KEY_MATERIAL",
            )
        deleted = materials.remove(doc, wanted) if wanted else None
        materials.settle(doc)
        # As AWS: a key pending deletion stays so (cancelling it then gives PendingImport).
        if deleted is not None and not deleted.get("PendingRotation") and state != PENDING_DELETION:
            meta["KeyState"] = PENDING_IMPORT
        keyring.save_key(doc)
    result = {"KeyId": keyring.key_arn(meta["KeyId"])}
    if deleted is not None:
        result["KeyMaterialId"] = deleted["KeyMaterialId"]
    return result
