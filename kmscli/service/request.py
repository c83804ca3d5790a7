"""The request members of AWS's model that a local keyring honours in its own way or refuses.

Every member of an operation's input shape is taken (kmscli/service/operations.py lists them
all), so a script written for `aws kms` never meets "no such option". Most members are the
operation's own business; the ones here cut across operations, and each gets one rule:

- GrantTokens: checked as AWS checks them (1-10 tokens of 1-8192 characters), then ignored.
  A grant token only ever adds permissions; whoever holds the passphrase already has every
  permission on the keyring, so ignoring one never grants more than the caller had, and
  scripts that pass tokens keep working. (A keyring has no grants to check a token against.)
- DryRun: the request is checked and carried out to the end, as it would be, and its result
  thrown away: DryRunOperationException when it would have succeeded, and the error it would
  have failed with otherwise — what AWS answers ("Checks if your request will succeed"). Only
  operations that change nothing on disk take DryRun in AWS's model, so nothing is written.
  DryRunModifiers IGNORE_CIPHERTEXT (Decrypt, ReEncrypt): the ciphertext is not checked, only
  that the key may be used; the operation supplies that check.
- Recipient (a Nitro Enclaves attestation document), Policy and BypassPolicyLockoutSafetyCheck
  (key policies), MultiRegion, CustomKeyStoreId and XksKeyId (custom key stores): a local
  keyring has no enclave, no policies, no Regions and no custom key stores. The member is
  refused with one error that says so: the exception AWS would raise where the model names
  one for the operation (CustomKeyStoreNotFoundException: no custom key store exists here),
  else UnsupportedOperationException where the operation may raise it, else
  ValidationException (AWS's common error for a request it cannot accept).
"""

from __future__ import annotations

import functools
import inspect

from ..errors import (
    CustomKeyStoreNotFoundException,
    DryRunOperationException,
    KmsError,
    ValidationException,
)

GRANT_TOKENS_MAX = 10
GRANT_TOKEN_LENGTH_MAX = 8192
DRY_RUN_MODIFIERS = ("IGNORE_CIPHERTEXT",)

# member -> why a local keyring cannot honour it
_NOT_HERE = {
    "Recipient": "a local keyring runs in no Nitro enclave: it cannot return CiphertextForRecipient "
    "for an attestation document",
    "Policy": "a local keyring has no key policies: whoever holds the passphrase may use every key",
    "BypassPolicyLockoutSafetyCheck": "a local keyring has no key policies, so no policy lockout check",
    "MultiRegion": "a local keyring has no Regions: it cannot make multi-Region keys",
    "XksKeyId": "a local keyring has no external key stores",
}

# The keyword arguments each cross-cutting member becomes, and its default.
_ARGUMENTS = {
    "GrantTokens": ("grant_tokens", None),
    "DryRun": ("dry_run", None),
    "DryRunModifiers": ("dry_run_modifiers", None),
    "Recipient": ("recipient", None),
    "Policy": ("policy", None),
    "BypassPolicyLockoutSafetyCheck": ("bypass_policy_lockout_safety_check", None),
    "MultiRegion": ("multi_region", None),
    "CustomKeyStoreId": ("custom_key_store_id", None),
    "XksKeyId": ("xks_key_id", None),
}


def check_grant_tokens(tokens) -> None:
    if tokens is None:
        return
    if isinstance(tokens, str) or not isinstance(tokens, (list, tuple)):
        raise ValidationException("GrantTokens must be a list of grant tokens")
    if len(tokens) > GRANT_TOKENS_MAX:
        raise ValidationException(f"GrantTokens takes at most {GRANT_TOKENS_MAX} tokens")
    for token in tokens:
        if not isinstance(token, str) or not 1 <= len(token) <= GRANT_TOKEN_LENGTH_MAX:
            raise ValidationException(f"each grant token must be 1 to {GRANT_TOKEN_LENGTH_MAX} characters")


def check_dry_run_modifiers(dry_run, modifiers) -> list[str]:
    modifiers = list(modifiers or [])
    for modifier in modifiers:
        if modifier not in DRY_RUN_MODIFIERS:
            raise ValidationException(
                f"DryRunModifiers {str(modifier)[:40]!r} is not valid; valid: {', '.join(DRY_RUN_MODIFIERS)}"
            )
    if modifiers and not dry_run:
        raise ValidationException("DryRunModifiers applies only with DryRun", hint="add --dry-run")
    return modifiers


def refuse(member: str, refusal: type[KmsError]) -> None:
    raise refusal(f"{member} is not supported: {_NOT_HERE[member]}")


def dry_run_succeeded(operation: str) -> DryRunOperationException:
    return DryRunOperationException(  # AWS's words (tests/test_aws_recorded.py)
        "The request would have succeeded, but the DryRun option is set.",
        hint="run it again without --dry-run to carry it out",
    )


def takes(
    operation: str,
    *members: str,
    refusal: type[KmsError] = ValidationException,
    ignore_ciphertext=None,
):
    """Decorate the service function of ``operation`` so that it also takes the cross-cutting
    ``members`` as keyword arguments and applies their rules (the module's docstring).

    ``refusal`` is the exception for a member a keyring cannot honour (the one the model lets
    the operation raise). ``ignore_ciphertext(*args, **kwargs)``, for Decrypt and ReEncrypt,
    checks a dry run given IGNORE_CIPHERTEXT: that the key may be used, without the ciphertext.
    """
    for member in members:
        assert member in _ARGUMENTS, member

    def decorate(function):
        signature = inspect.signature(function)
        added = [
            inspect.Parameter(_ARGUMENTS[m][0], inspect.Parameter.KEYWORD_ONLY, default=_ARGUMENTS[m][1])
            for m in members
            if _ARGUMENTS[m][0] not in signature.parameters
        ]
        params = list(signature.parameters.values())
        variadic = [p for p in params if p.kind == inspect.Parameter.VAR_KEYWORD]
        params = [p for p in params if p.kind != inspect.Parameter.VAR_KEYWORD] + added + variadic
        own = {_ARGUMENTS[m][0] for m in members} - set(signature.parameters)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            extra = {name: kwargs.pop(name) for name in list(kwargs) if name in own}
            check_grant_tokens(extra.get("grant_tokens"))
            for member in ("Recipient", "Policy", "XksKeyId"):
                if member in members and extra.get(_ARGUMENTS[member][0]) is not None:
                    refuse(member, refusal)
            for member in ("BypassPolicyLockoutSafetyCheck", "MultiRegion"):
                if member in members and extra.get(_ARGUMENTS[member][0]):  # False is what kmscli does
                    refuse(member, refusal)
            if extra.get("custom_key_store_id") is not None:
                raise CustomKeyStoreNotFoundException(
                    "no custom key store has that id: a local keyring has no custom key stores"
                )
            dry_run = bool(extra.get("dry_run"))
            modifiers = check_dry_run_modifiers(dry_run, extra.get("dry_run_modifiers"))
            if not dry_run:
                return function(*args, **kwargs)
            if "IGNORE_CIPHERTEXT" in modifiers and ignore_ciphertext is not None:
                ignore_ciphertext(*args, **kwargs)
            else:
                function(*args, **kwargs)  # every check, and the work; the result is not returned
            raise dry_run_succeeded(operation)

        wrapper.__signature__ = signature.replace(parameters=params)
        wrapper.operation_members = members
        return wrapper

    return decorate

