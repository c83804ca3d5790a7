"""aws-cli's options for the request members that cut across operations (GrantTokens, DryRun,
Recipient, Policy, ...): every member of AWS's model is an option, so a script written for
`aws kms` never meets "no such option". The service decides what each one does
(kmscli/service/request.py); the command passes them on as keyword arguments."""

from __future__ import annotations

import functools

import click

from ..service.operations import OPERATIONS, snake_case
from .options import ListOption, choice, text_value

_MEMBER_OPTIONS = {
    "GrantTokens": lambda: click.option(
        "--grant-tokens", "grant_tokens", cls=ListOption, metavar="TOKEN ...",
        help="Grant tokens, as aws-cli takes them: checked and ignored, as a keyring has no grants; see README.",
    ),
    "DryRun": lambda: click.option(
        "--dry-run/--no-dry-run", "dry_run", default=None,
        help="Check the request without carrying it out: DryRunOperationException (exit status 3) "
        "when it would succeed, else the error it would fail with.",
    ),
    "DryRunModifiers": lambda: click.option(
        "--dry-run-modifiers", "dry_run_modifiers", cls=ListOption, type=choice(["IGNORE_CIPHERTEXT"]),
        help="With --dry-run: IGNORE_CIPHERTEXT checks only that the key may be used.",
    ),
    "Recipient": lambda: click.option(
        "--recipient", "recipient", metavar="STRUCTURE", callback=text_value,
        help="Refused: a local keyring runs in no Nitro enclave.",
    ),
    "Policy": lambda: click.option(
        "--policy", "policy", metavar="TEXT", callback=text_value, help="Refused: a keyring has no key policies."
    ),
    "BypassPolicyLockoutSafetyCheck": lambda: click.option(
        "--bypass-policy-lockout-safety-check/--no-bypass-policy-lockout-safety-check",
        "bypass_policy_lockout_safety_check", default=None, help="Refused when set: a keyring has no key policies.",
    ),
    "MultiRegion": lambda: click.option(
        "--multi-region/--no-multi-region", "multi_region", default=None,
        help="Refused when set: a keyring has no Regions.",
    ),
    "CustomKeyStoreId": lambda: click.option(
        "--custom-key-store-id", "custom_key_store_id", metavar="ID", callback=text_value,
        help="Refused: a keyring has no custom key stores (CustomKeyStoreNotFoundException).",
    ),
    "XksKeyId": lambda: click.option(
        "--xks-key-id", "xks_key_id", metavar="ID", callback=text_value,
        help="Refused: a keyring has no external key stores.",
    ),
}


def aws_members(operation: str):
    """Add the cross-cutting members of ``operation`` as options; the command receives the
    ones given as ``**aws`` keyword arguments named as AWS names the members (``GrantTokens``),
    a part of the request to pass on as it is."""
    members = [m for m in OPERATIONS[operation].members if m in _MEMBER_OPTIONS]
    by_option = {snake_case(m): m for m in members}  # click's parameter name -> AWS's member

    def decorate(f):
        @functools.wraps(f)
        def command(*args, **kwargs):
            for name, member in by_option.items():
                value = kwargs.pop(name, None)
                if value is not None and value != ():
                    kwargs[member] = list(value) if isinstance(value, tuple) else value
            return f(*args, **kwargs)

        for member in reversed(members):
            command = _MEMBER_OPTIONS[member]()(command)
        # click lists options in the reverse order of their decorators: these, added last,
        # would head --help; moved to the front of the list they follow the command's own.
        params = getattr(command, "__click_params__", [])
        if members:
            params[:] = params[-len(members) :] + params[: -len(members)]
        return command

    return decorate
