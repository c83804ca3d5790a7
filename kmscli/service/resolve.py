"""Key identifiers in every form AWS accepts: key id, key ARN, alias name, alias ARN."""

from __future__ import annotations

import re
from typing import Callable

from ..errors import IncorrectKeyException, NotFoundException, ValidationException
from ..keyring import Keyring, is_key_id

# Patterns, not compiled objects: re compiles (and caches) them on first use, so a command
# given a plain key id or alias name never pays for compiling them.
_KEY_ARN = r"^arn:aws:kms:(?P<region>[^:]*):(?P<account>[^:]*):key/(?P<id>.+)$"
_ALIAS_ARN = r"^arn:aws:kms:(?P<region>[^:]*):(?P<account>[^:]*):(?P<alias>alias/.+)$"
# A multi-Region key id: well formed, so AWS answers "does not exist" rather than "invalid";
# a keyring never has one (it makes no multi-Region keys).
_MRK_ID = r"^mrk-[0-9a-f]{32}$"
KEY_ID_MAX = 2048  # AWS's KeyIdType length bound


# AWS's answer to a key that cannot decrypt a ciphertext: another key's, or one of another
# usage (recorded from AWS KMS: tests/test_aws_recorded.py).
INCORRECT_KEY = "The key ID in the request does not identify a CMK that can perform this operation."


def check_named_key(keyring: Keyring, key_id: str | None, named: str, what: str, hint: str) -> None:
    """A ciphertext that names its own key (``named``) may still be given a --key-id: then
    it must resolve to that key, or IncorrectKeyException says that ``what`` is another's."""
    if key_id is None:
        return
    wanted = resolve_key_id(keyring, key_id)
    if wanted != named:
        raise IncorrectKeyException(INCORRECT_KEY, hint=f"{hint} ({what} was not encrypted under key {wanted})")


def resolve_key_id(keyring: Keyring, key_id: str) -> str:
    """The key id (a UUID) that ``key_id`` names, or NotFoundException.

    Checked before anything touches the file system: only a canonical UUID ever becomes
    a path."""
    if not isinstance(key_id, str) or not 1 <= len(key_id) <= KEY_ID_MAX or "\x00" in key_id:
        raise ValidationException("KeyId must be 1 to 2048 characters")
    if is_key_id(key_id):
        return key_id
    if re.match(_MRK_ID, key_id):
        raise NotFoundException(f"Key '{keyring.key_arn(key_id)}' does not exist")
    m = re.match(_KEY_ARN, key_id)
    if m:
        _check_arn_home(keyring, m, key_id)
        if is_key_id(m["id"]):
            return m["id"]
        raise NotFoundException(f"Key '{_shown(key_id)}' does not exist")
    m = re.match(_ALIAS_ARN, key_id)
    if m:
        _check_arn_home(keyring, m, key_id)
        return _alias_target(keyring, m["alias"])
    if key_id.startswith("alias/"):
        return _alias_target(keyring, key_id)
    # AWS's wording (recorded from AWS KMS: tests/test_aws_recorded.py).
    raise NotFoundException(
        f"Invalid keyId '{_shown(key_id)}'",
        hint=_alias_hint(keyring, "alias/" + key_id, otherwise="list the keys with: kmscli list-keys"),
    )


def _check_arn_home(keyring: Keyring, m: re.Match, key_id: str) -> None:
    # AWS answers an ARN of another Region "Invalid arn <region>" (recorded from AWS KMS).
    if m["region"] != keyring.region:
        raise NotFoundException(
            f"Invalid arn {_shown(m['region'])}",
            hint=f"this keyring's keys are in Region {keyring.region!r}",
        )
    if m["account"] != keyring.account_id:
        raise NotFoundException(
            f"'{_shown(key_id)}' names account {m['account']!r}; this keyring is account {keyring.account_id!r}"
        )


def _alias_target(keyring: Keyring, alias_name: str) -> str:
    entry = keyring.load_alias(alias_name)  # its bucket alone; verified at the unlock
    target = entry.get("TargetKeyId") if entry is not None else None
    if not target:
        raise NotFoundException(
            alias_not_found(keyring, alias_name),
            hint=_alias_hint(keyring, alias_name, otherwise="list the aliases with: kmscli list-aliases"),
        )
    return target


def alias_not_found(keyring: Keyring, alias_name: str) -> str:
    """AWS's words for an alias that does not exist, whichever operation named it
    ('Alias arn:aws:kms:us-west-2:111122223333:alias/x is not found.', as AWS KMS answers
    Encrypt, DescribeKey, UpdateAlias and DeleteAlias)."""
    return f"Alias {_shown(keyring.alias_arn(alias_name))} is not found."


# An alias is suggested only for a name at least this similar (difflib's ratio).
_ALIAS_CUTOFF = 0.8


def _alias_hint(keyring: Keyring, alias_name: str, *, otherwise: str) -> Callable[[], str]:
    """The hint of a NotFoundException: the alias of this keyring that was probably meant
    (`--key-id first` for alias/first, `alias/frist` for alias/first), else ``otherwise``.
    A function, called only when the hint is read (KmsError.hint): finding the alias reads
    every alias bucket, which `kmscli serve` and the Python API, which never show the hint,
    must not pay for each unknown key. Alias names are the keyring's clear metadata
    (list-aliases shows them without a passphrase), so naming one here tells nothing the
    keyring's reader could not list."""

    def hint() -> str:
        return _alias_meant(keyring, alias_name) or otherwise

    return hint


def _alias_meant(keyring: Keyring, alias_name: str) -> str | None:
    try:
        if keyring.load_alias(alias_name) is not None:  # its bucket alone
            return f"did you mean {alias_name}? (an alias in this keyring)"
        aliases = keyring.load_aliases()  # every bucket: only for a name not found at all
    except Exception:  # noqa: BLE001 - a hint must never replace the error it adds to
        return None
    import difflib

    near = difflib.get_close_matches(alias_name, list(aliases), n=1, cutoff=_ALIAS_CUTOFF)
    return f"did you mean {near[0]}? (an alias in this keyring)" if near else None


def _shown(text: str) -> str:
    """A user's identifier, safe to echo: printable and short."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= 100 else clean[:100] + "..."
