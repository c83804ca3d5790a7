"""Key policies, read-only: GetKeyPolicy and ListKeyPolicies.

A keyring has no IAM and enforces no policy: any access key of `kmscli serve`, and anyone
who can unlock the keyring, may do everything with every key. That is what AWS's default
key policy says (it lets the account, and through IAM everyone the account allows, do kms:*),
so each key answers with that policy, in AWS's own text, under AWS's one policy name,
``default``: tools that read a key's policy after creating it (Terraform's aws_kms_key,
inventory and audit scripts) see what AWS would show for a key made without a policy.
Setting a policy (CreateKey's Policy, PutKeyPolicy) stays refused: kmscli could not enforce it.
"""

from __future__ import annotations

from .. import specs
from ..errors import InvalidMarkerException, NotFoundException
from . import paging
from .resolve import resolve_key_id

DEFAULT_POLICY_NAME = "default"

# AWS's default key policy, laid out as AWS returns it (its JSON printer's " : " and "[ {").
_DEFAULT_POLICY = """{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::%s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}"""


def get_key_policy(keyring, key_id: str, *, policy_name: str | None = None) -> dict:
    """The key's policy; needs no passphrase and answers in every key state, as AWS."""
    keyring.load_key(resolve_key_id(keyring, key_id))  # the key exists (NotFoundException otherwise)
    name = DEFAULT_POLICY_NAME if policy_name is None else policy_name
    if name != DEFAULT_POLICY_NAME:
        # AWS's model: a key without the named policy (AWS_RAM: a key shared through RAM) is NotFound.
        raise NotFoundException(
            f"the key has no key policy named {name[:128]!r}; its one policy is {DEFAULT_POLICY_NAME!r}",
            hint=f"list a key's policies with: kmscli list-key-policies --key-id {key_id[:300]}",
        )
    return {"Policy": _DEFAULT_POLICY % keyring.account_id, "PolicyName": DEFAULT_POLICY_NAME}


def list_key_policies(keyring, key_id: str, *, limit: int | None = None, marker: str | None = None) -> dict:
    """The names of the key's policies: ``default``, on one page."""
    limit = paging.check_limit(limit, "ListKeyPolicies")
    keyring.load_key(resolve_key_id(keyring, key_id))
    if marker is not None:
        raise InvalidMarkerException("the marker is not one that list-key-policies returned")
    return paging.page([DEFAULT_POLICY_NAME], start=0, limit=limit, field="PolicyNames", row=lambda name: name)
