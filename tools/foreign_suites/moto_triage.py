"""The triage of moto's KMS tests run against kmscli serve: why each known failure fails.

    python tools/foreign_suites/moto_triage.py moto-kms.xml [--without-policies] [-v]

reads the JUnit file run_moto_kms.py wrote and counts the failures by category. A failure not
in the table below is "untriaged": new in moto's suite or in kmscli, to be looked at. The
categories (docs/serve-tests.md):

  not-offered  an AWS feature kmscli does not have (setting key policies, grants, multi-Region keys,
               AWS managed keys); kmscli refuses it by name, as docs/serve.md says
  moto-only    the test expects moto's own answer; AWS's recorded or documented answer is
               kmscli's (the reason names the evidence)
  unsettled    no AWS record either way was found; kmscli's answer is kept
"""

from __future__ import annotations

import collections
import sys
import xml.etree.ElementTree as ET

POLICY = ("not-offered", "CreateKey with a Policy: kmscli has no key policies and refuses the member by name")
RULES: dict[str, tuple[str, str]] = {
    # --- not offered ------------------------------------------------------------------------
    "test_create_key": POLICY,
    "test_create_key_without_description": POLICY,
    "test_get_key_policy": POLICY,
    "test_put_key_policy_using_alias_shouldnt_work": POLICY,
    "test_create_grant": POLICY,
    "test_list_grants": POLICY,
    "test_list_retirable_grants": POLICY,
    "test_revoke_grant": POLICY,
    "test_revoke_grant_raises_when_grant_does_not_exist": POLICY,
    "test_retire_grant_by_token": POLICY,
    "test_retire_grant_by_grant_id": POLICY,
    "test_rotate_key_on_demand_with_existing_key": POLICY,
    "test_list_key_rotations_are_empty_on_new_key": POLICY,
    "test_list_key_rotations_returns_one_rotation": POLICY,
    "test_list_key_rotations_returns_truncated_and_next_marker": POLICY,
    "test_list_key_rotations_pagination": POLICY,
    "test_generate_mac": POLICY,
    "test_generate_mac_supports_aliases_for_hmac_keys": POLICY,
    "test_generate_fails_for_invalid_key_usage": POLICY,
    "test_generate_fails_for_invalid_key_spec": POLICY,
    "test_generate_fails_for_mac_algorithm_not_supported_by_key_spec": POLICY,
    "test_verify_mac": POLICY,
    "test_verify_mac_fails_for_another_key_id": POLICY,
    "test_create_multi_region_key": POLICY,
    "test_create_multi_region_configuration_key": POLICY,
    "test_non_multi_region_keys_should_not_have_multi_region_properties": POLICY,
    "test_replicate_key": POLICY,
    "test_put_key_policy": ("not-offered", "PutKeyPolicy: UnsupportedOperationException"),
    "test_put_key_policy_key_not_found": ("not-offered", "PutKeyPolicy: UnsupportedOperationException"),
    "test_policy__deny_based_on_actions": ("not-offered", "key policies (PutKeyPolicy) and their enforcement"),
    "test_policy__allow_based_on_actions": ("not-offered", "key policies (PutKeyPolicy) and their enforcement"),
    "test_list_aliases": ("not-offered", "expects the 14 aliases of AWS managed keys (alias/aws/...); a keyring has none"),
    # --- moto's own behaviour ---------------------------------------------------------------
    "test_create_key_with_invalid_key_spec": (
        "moto-only", "enum set quoted ['A', 'B']; AWS lists it [A, B] (recorded: tests/test_aws_recorded.py)"),
    "test_sign_invalid_signing_algorithm": ("moto-only", "enum set quoting, as above"),
    "test_verify_invalid_signing_algorithm": ("moto-only", "enum set quoting, as above"),
    "test_sign_invalid_message": (
        "moto-only", "\"Value at 'Message'\"; AWS names members in lower camel case ('message', recorded)"),
    "test_verify_invalid_message": ("moto-only", "member name case, as above"),
    "test_verify_empty_signature": ("moto-only", "member name case, as above"),
    "test_unknown_tag_methods": ("moto-only", "\"Invalid keyId unknown\"; AWS quotes the id: \"Invalid keyId 'unknown'\" (recorded)"),
    "test__create_alias__raises_if_wrong_prefix": (
        "moto-only", "\"Invalid identifier\"; AWS: 'Alias must start with the prefix \"alias/\". ...' (recorded)"),
    "test_schedule_key_deletion": ("moto-only", "expects the bare key id; AWS's model: the response's KeyId is the key ARN"),
    "test_schedule_key_deletion_custom": ("moto-only", "bare key id, as above"),
    "test_cancel_key_deletion": ("moto-only", "bare key id, as above"),
    "test_verify_happy_with_invalid_signature": (
        "moto-only", "expects SignatureValid=False; AWS's model: a failed verification is KMSInvalidSignatureException"),
    "test_sign_and_verify_digest_message_type_RSA": (
        "moto-only", "signs a SHA-256 digest with *_SHA_384/512 (AWS: 'Digest is invalid length', recorded) and "
        "verifies a DIGEST signature as RAW (AWS: KMSInvalidSignatureException)"),
    "test_sign_and_verify_digest_message_type_ECDSA": ("moto-only", "digest length and RAW/DIGEST mix, as above"),
    "test_fail_verify_digest_message_type_RSA": ("moto-only", "digest length and RAW/DIGEST mix, as above"),
    "test_fail_verify_digest_message_type_ECDSA": ("moto-only", "digest length and RAW/DIGEST mix, as above"),
    "test_invalid_signing_algorithm_for_key_spec_type_ECDSA": (
        "moto-only", "ValidationException; AWS: InvalidKeyUsageException 'Algorithm A is incompatible with key spec S.' (recorded)"),
    "test_sign_invalid_key_usage": ("moto-only", "ValidationException; AWS: InvalidKeyUsageException (recorded)"),
    "test_decrypt_validates_key_id": ("moto-only", "AccessDeniedException; AWS: IncorrectKeyException (recorded)"),
    "test_generate_data_key_all_valid_key_ids": (
        "moto-only", "uses ARNs of account 012345678912 from account 123456789012 as if its own; in AWS that is "
        "another account's key, which does not exist"),
    "test__create_alias__can_create_multiple_aliases_for_same_key_id": (
        "moto-only", "ListAliases entries without CreationDate/LastUpdatedDate, which AWS returns"),
    "test_list_aliases_for_key_id": ("moto-only", "alias dates, as above"),
    "test_list_aliases_for_key_arn": ("moto-only", "alias dates, as above"),
    # --- no AWS record either way -------------------------------------------------------------
    "test_tag_resource": ("unsettled", "tags a key pending deletion; kmscli refuses (KMSInvalidStateException)"),
    "test_list_resource_tags": ("unsettled", "tags a key pending deletion, as above"),
    "test_list_resource_tags_with_arn": ("unsettled", "tags a key pending deletion, as above"),
    "test_enable_key_rotation_with_alias_name_should_fail": (
        "unsettled", "AWS documents key id or ARN for EnableKeyRotation; kmscli also takes an alias"),
    "test__create_alias__raises_if_reserved_alias": (
        "unsettled", "NotAuthorizedException with no message (not in AWS's model for CreateAlias); kmscli: InvalidAliasNameException"),
    "test__create_alias__raises_if_target_key_id_is_existing_alias": (
        "unsettled", "an existing name with an alias as target: kmscli checks the name first (AlreadyExists)"),
    "test__delete_alias__raises_if_wrong_prefix": (
        "unsettled", "ValidationException 'Invalid identifier'; kmscli: NotFoundException (no such alias can exist)"),
}

# With --without-policies (CreateKey's Policy left out), what the tests behind POLICY fail on next.
GRANTS = ("not-offered", "grants: CreateGrant, ListGrants, RevokeGrant, RetireGrant are UnsupportedOperationException")
MULTI_REGION = ("not-offered", "multi-Region keys (MultiRegion, ReplicateKey)")
BARE_ID = ("moto-only", "expects the bare key id; AWS answers with the key ARN (recorded: tests/test_aws_recorded.py)")
WITHOUT_POLICIES: dict[str, tuple[str, str]] = {
    "test_create_grant": GRANTS,
    "test_list_grants": GRANTS,
    "test_list_retirable_grants": GRANTS,
    "test_revoke_grant": GRANTS,
    "test_revoke_grant_raises_when_grant_does_not_exist": GRANTS,
    "test_retire_grant_by_token": GRANTS,
    "test_retire_grant_by_grant_id": GRANTS,
    "test_create_multi_region_key": MULTI_REGION,
    "test_create_multi_region_configuration_key": MULTI_REGION,
    "test_replicate_key": MULTI_REGION,
    "test_get_key_policy": (
        "not-offered", "reads back the policy CreateKey set (left out here): a keyring's keys have AWS's default one"),
    "test_put_key_policy_using_alias_shouldnt_work": ("not-offered", "PutKeyPolicy: UnsupportedOperationException"),
    "test_rotate_key_on_demand_with_existing_key": BARE_ID,
    "test_generate_mac": BARE_ID,
    "test_generate_mac_supports_aliases_for_hmac_keys": BARE_ID,
    "test_verify_mac": BARE_ID,
    "test_generate_fails_for_invalid_key_usage": (
        "moto-only", "creates an HMAC key for ENCRYPT_DECRYPT (and RSA for GENERATE_VERIFY_MAC); AWS refuses the "
        "combination at CreateKey ('KeyUsage X is not compatible with KeySpec S', recorded)"),
    "test_generate_fails_for_invalid_key_spec": ("moto-only", "key usage and spec, as above"),
}


def triage(junit_path: str, *, without_policies: bool = False) -> dict:
    rules = {**RULES, **WITHOUT_POLICIES} if without_policies else RULES
    results = collections.Counter()
    by_category: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for case in ET.parse(junit_path).iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        results["failed" if failed else "skipped" if skipped else "passed"] += 1
        if failed:
            name = case.get("name").split("[")[0]
            category, why = rules.get(name, ("untriaged", "not in the triage table"))
            by_category[category].append((f"{case.get('classname').rsplit('.', 1)[-1]}::{case.get('name')}", why))
    return {"results": results, "by_category": by_category}


def main() -> int:
    paths = [a for a in sys.argv[1:] if not a.startswith("-")]
    report = triage(paths[0] if paths else "moto-kms.xml", without_policies="--without-policies" in sys.argv)
    r = report["results"]
    print(f"moto KMS suite against kmscli serve: {sum(r.values())} ran, {r['passed']} passed, "
          f"{r['failed']} failed, {r['skipped']} skipped")
    for category in ("not-offered", "moto-only", "unsettled", "untriaged"):
        cases = report["by_category"].get(category, [])
        print(f"  {category}: {len(cases)}")
        if "-v" in sys.argv or category == "untriaged":
            for case, why in cases:
                print(f"    {case}: {why}")
    return 1 if report["by_category"].get("untriaged") else 0


if __name__ == "__main__":
    sys.exit(main())
