"""Which keys a command's key option can use, for tab completion.

`kmscli encrypt --key-id <Tab>` offers the keys encrypt would accept (enabled, for
ENCRYPT_DECRYPT) and the aliases of those keys; `sign` the signing keys, and so on. The rules
are AWS's (which key usage, key spec and state each operation needs); commands that manage
a key whatever it is for (describe-key, enable-key, tag-resource, ...) are not listed and
offer every key. Imported only while completing."""

from __future__ import annotations

from collections.abc import Callable

Metadata = dict
Filter = Callable[[Metadata], bool]


def _usable(usage: str, *, symmetric: bool = False) -> Filter:
    """Enabled keys of ``usage`` (and of spec SYMMETRIC_DEFAULT only, with ``symmetric``)."""

    def fits(meta: Metadata) -> bool:
        return (
            meta.get("KeyState") == "Enabled"
            and meta.get("KeyUsage") == usage
            and (not symmetric or meta.get("KeySpec") == "SYMMETRIC_DEFAULT")
        )

    return fits


def _asymmetric(meta: Metadata) -> bool:
    spec = str(meta.get("KeySpec") or "")
    return meta.get("KeyState") == "Enabled" and spec != "SYMMETRIC_DEFAULT" and not spec.startswith("HMAC_")


def _external(meta: Metadata) -> bool:
    return meta.get("Origin") == "EXTERNAL"


_ENCRYPTION = _usable("ENCRYPT_DECRYPT")  # symmetric, or RSA for encryption
_DATA_KEYS = _usable("ENCRYPT_DECRYPT", symmetric=True)  # AWS: a symmetric encryption key only
_SIGNING = _usable("SIGN_VERIFY")
_MAC = _usable("GENERATE_VERIFY_MAC")
_AGREEMENT = _usable("KEY_AGREEMENT")

BY_COMMAND: dict[str, Filter] = {
    "encrypt": _ENCRYPTION,
    "decrypt": _ENCRYPTION,
    "re-encrypt": _ENCRYPTION,
    "encrypt-file": _ENCRYPTION,
    "decrypt-file": _ENCRYPTION,
    "generate-data-key": _DATA_KEYS,
    "generate-data-key-without-plaintext": _DATA_KEYS,
    "generate-data-key-pair": _DATA_KEYS,
    "generate-data-key-pair-without-plaintext": _DATA_KEYS,
    "sign": _SIGNING,
    "verify": _SIGNING,
    "generate-mac": _MAC,
    "verify-mac": _MAC,
    "derive-shared-secret": _AGREEMENT,
    "get-public-key": _asymmetric,
    "get-parameters-for-import": _external,
    "import-key-material": _external,
    "delete-imported-key-material": _external,
}


def for_command(name: str | None) -> Filter | None:
    """The filter of command ``name``'s key options, or None: every key."""
    return BY_COMMAND.get(name or "")
