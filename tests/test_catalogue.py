"""Every spec/usage/algorithm combination, valid and invalid.

The combinations are parametrized from kmscli.specs so that the catalogue and the tests
cannot drift apart; a few facts from AWS's documentation are also asserted literally, so a
wrong catalogue fails here too."""

from __future__ import annotations

import pytest

from seed_keys import SEED_ALGORITHMS, SEED_PAIRS, assert_error, ok_json, seed  # noqa: F401

from kmscli import specs

# --- the catalogue against AWS's documentation, literally --------------------------------

RSA_SIGNING = [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
]
AWS_SEED_FACTS = {
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"): ["SYMMETRIC_DEFAULT"],
    ("HMAC_224", "GENERATE_VERIFY_MAC"): ["HMAC_SHA_224"],
    ("HMAC_256", "GENERATE_VERIFY_MAC"): ["HMAC_SHA_256"],
    ("HMAC_384", "GENERATE_VERIFY_MAC"): ["HMAC_SHA_384"],
    ("HMAC_512", "GENERATE_VERIFY_MAC"): ["HMAC_SHA_512"],
    **{(f"RSA_{b}", "ENCRYPT_DECRYPT"): ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] for b in (2048, 3072, 4096)},
    **{(f"RSA_{b}", "SIGN_VERIFY"): RSA_SIGNING for b in (2048, 3072, 4096)},
    ("ECC_NIST_P256", "SIGN_VERIFY"): ["ECDSA_SHA_256"],
    ("ECC_NIST_P384", "SIGN_VERIFY"): ["ECDSA_SHA_384"],
    ("ECC_NIST_P521", "SIGN_VERIFY"): ["ECDSA_SHA_512"],
    ("ECC_SECG_P256K1", "SIGN_VERIFY"): ["ECDSA_SHA_256"],
}


def test_seed_pairs_are_the_documented_ones():
    assert sorted(SEED_PAIRS) == sorted(AWS_SEED_FACTS)


@pytest.mark.parametrize("pair", sorted(AWS_SEED_FACTS))
def test_catalogue_algorithms_match_aws(pair):
    spec, usage = pair
    assert list(specs.KEY_SPECS[spec].algorithms[usage]) == AWS_SEED_FACTS[pair]


def test_catalogue_usages_and_defaults_match_aws():
    usages = {name: spec.usages for name, spec in specs.KEY_SPECS.items()}
    assert usages["SYMMETRIC_DEFAULT"] == ("ENCRYPT_DECRYPT",)
    assert usages["HMAC_256"] == ("GENERATE_VERIFY_MAC",)
    assert set(usages["RSA_3072"]) == {"ENCRYPT_DECRYPT", "SIGN_VERIFY"}
    assert set(usages["ECC_NIST_P384"]) == {"SIGN_VERIFY", "KEY_AGREEMENT"}
    assert usages["ECC_SECG_P256K1"] == ("SIGN_VERIFY",)
    # create-key's default usage, as AWS: ENCRYPT_DECRYPT for RSA, SIGN_VERIFY for ECC.
    assert specs.KEY_SPECS["RSA_4096"].default_usage == "ENCRYPT_DECRYPT"
    assert specs.KEY_SPECS["ECC_NIST_P521"].default_usage == "SIGN_VERIFY"
    assert specs.KEY_SPECS["HMAC_512"].default_usage == "GENERATE_VERIFY_MAC"


def test_catalogue_sizes_match_aws():
    assert specs.SYMMETRIC_PLAINTEXT_MAX == 4096
    assert specs.CIPHERTEXT_BLOB_MAX == 6144
    assert specs.MESSAGE_MAX == 4096
    oaep = {
        (bits, alg): specs.rsa_oaep_max_plaintext(specs.KEY_SPECS[f"RSA_{bits}"], alg)
        for bits in (2048, 3072, 4096)
        for alg in ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
    }
    assert oaep == {
        (2048, "RSAES_OAEP_SHA_1"): 214,
        (3072, "RSAES_OAEP_SHA_1"): 342,
        (4096, "RSAES_OAEP_SHA_1"): 470,
        (2048, "RSAES_OAEP_SHA_256"): 190,
        (3072, "RSAES_OAEP_SHA_256"): 318,
        (4096, "RSAES_OAEP_SHA_256"): 446,
    }
    digests = {n: a.digest_length for n, a in specs.SIGNING_ALGORITHMS.items() if n.startswith(("RSA", "ECDSA"))}
    assert digests["ECDSA_SHA_256"] == 32
    assert digests["RSASSA_PSS_SHA_384"] == 48
    assert digests["RSASSA_PKCS1_V1_5_SHA_512"] == 64


# --- create-key: every spec x usage ---------------------------------------------------------

ALL_PAIRS = [(s, u) for s in specs.KEY_SPECS for u in specs.KEY_USAGES]
VALID_PAIRS = [(s, u) for s, u in ALL_PAIRS if u in specs.KEY_SPECS[s].usages and not specs.KEY_SPECS[s].unsupported]
INVALID_PAIRS = [(s, u) for s, u in ALL_PAIRS if u not in specs.KEY_SPECS[s].usages]


@pytest.mark.parametrize("spec,usage", SEED_PAIRS)
def test_seed_keys_were_created_as_asked(seed, spec, usage):
    meta = ok_json(seed.run("describe-key", "--key-id", seed.key(spec, usage)))["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"], meta["KeyState"]) == (spec, usage, "Enabled")
    assert meta[specs.ALGORITHM_FIELD[usage]] == AWS_SEED_FACTS[(spec, usage)]


@pytest.mark.parametrize(
    "spec,usage", [p for p in VALID_PAIRS if p not in SEED_PAIRS]
)
def test_other_catalogue_pairs_can_be_created(kms, spec, usage):
    meta = ok_json(kms("create-key", "--key-spec", spec, "--key-usage", usage))["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"]) == (spec, usage)
    assert meta[specs.ALGORITHM_FIELD[usage]] == list(specs.KEY_SPECS[spec].algorithms[usage])


@pytest.mark.parametrize("spec,usage", SEED_PAIRS)
def test_current_key_material_id_only_for_symmetric_encryption_keys(seed, spec, usage):
    """AWS: CurrentKeyMaterialId "is present for symmetric encryption keys" (the keys that
    rotate), absent for HMAC and asymmetric keys."""
    meta = ok_json(seed.run("describe-key", "--key-id", seed.key(spec, usage)))["KeyMetadata"]
    assert ("CurrentKeyMaterialId" in meta) == (spec == "SYMMETRIC_DEFAULT")

@pytest.mark.parametrize("spec,usage", INVALID_PAIRS)
def test_invalid_spec_usage_pairs_are_refused_with_the_valid_usages(kms, spec, usage):
    r = kms("create-key", "--key-spec", spec, "--key-usage", usage)
    if specs.KEY_SPECS[spec].unsupported:
        assert_error(r, 3, "UnsupportedOperationException")
        return
    line = assert_error(r, 2, "ValidationException")
    assert line == f"kmscli: error: ValidationException: KeyUsage {usage} is not compatible with KeySpec {spec}"  # AWS's words
    for valid in specs.KEY_SPECS[spec].usages:
        assert valid in r.stderr  # in the hint
    assert kms("list-keys").json()["Keys"] == []


@pytest.mark.parametrize("spec", ["SYMMETRIC_DEFAULT", "HMAC_256", "RSA_2048", "ECC_NIST_P256", "ECC_SECG_P256K1"])
def test_default_usage_is_awss(kms, spec):
    meta = ok_json(kms("create-key", "--key-spec", spec))["KeyMetadata"]
    expected = {
        "SYMMETRIC_DEFAULT": "ENCRYPT_DECRYPT",
        "HMAC_256": "GENERATE_VERIFY_MAC",
        "RSA_2048": "ENCRYPT_DECRYPT",
        "ECC_NIST_P256": "SIGN_VERIFY",
        "ECC_SECG_P256K1": "SIGN_VERIFY",
    }
    assert meta["KeyUsage"] == expected[spec]


@pytest.mark.parametrize("spec", ["RSA_1024", "AES_256", "ECC_NIST_P224", "symmetric_default", ""])
def test_unknown_key_spec_is_refused_with_the_choices(kms, spec):
    line = assert_error(kms("create-key", "--key-spec", spec), 2, "ValidationException")
    for name in ("SYMMETRIC_DEFAULT", "HMAC_256", "RSA_4096", "ECC_SECG_P256K1"):
        assert name in line


def test_unknown_key_usage_is_refused_with_the_choices(kms):
    line = assert_error(kms("create-key", "--key-usage", "ENCRYPT"), 2, "ValidationException")
    for name in specs.KEY_USAGES:
        assert name in line


# --- operations: every seed key x every algorithm of the operation --------------------------

OPERATIONS = {
    # usage: (command, algorithm option, algorithms the command accepts, data option)
    "ENCRYPT_DECRYPT": ("encrypt", "--encryption-algorithm", specs.ENCRYPTION_ALGORITHMS, "--plaintext"),
    "SIGN_VERIFY": ("sign", "--signing-algorithm", tuple(specs.SIGNING_ALGORITHMS), "--message"),
    "GENERATE_VERIFY_MAC": ("generate-mac", "--mac-algorithm", specs.MAC_ALGORITHMS, "--message"),
}
MATRIX = [
    (spec, usage, operation, algorithm)
    for spec, usage in SEED_PAIRS
    for operation in OPERATIONS
    for algorithm in OPERATIONS[operation][2]
]


@pytest.mark.parametrize("spec,usage,operation,algorithm", MATRIX)
def test_operation_algorithm_matrix(seed, spec, usage, operation, algorithm):
    command, option, _, data_option = OPERATIONS[operation]
    r = seed.run(command, "--key-id", seed.key(spec, usage), data_option, "hello", option, algorithm)
    supported = usage == operation and algorithm in specs.KEY_SPECS[spec].algorithms[usage]
    if supported:
        result = ok_json(r)
        assert result["KeyId"].endswith(seed.key(spec, usage))
        return
    line = assert_error(r, 3, "InvalidKeyUsageException")
    if usage == operation:
        assert line.endswith(f"Algorithm {algorithm} is incompatible with key spec {spec}.")  # AWS's words
        # The key's valid algorithms are named (in the hint), so the user can pick one.
        for valid in specs.KEY_SPECS[spec].algorithms[usage]:
            assert valid in r.stderr


def test_every_seed_algorithm_is_in_the_matrix():
    exercised = {(s, u, a) for s, u, op, a in MATRIX if u == op and a in specs.KEY_SPECS[s].algorithms[u]}
    assert exercised == set(SEED_ALGORITHMS)
    assert len(SEED_ALGORITHMS) == 1 + 4 + 3 * 2 + 3 * 6 + 4


@pytest.mark.parametrize("option,value", [("--signing-algorithm", "ECDSA_SHA_224"), ("--message-type", "PREHASHED")])
def test_unknown_algorithm_names_are_usage_errors(seed, option, value):
    args = {"--signing-algorithm": "ECDSA_SHA_256", "--message-type": "RAW", option: value}
    r = seed.run("sign", "--key-id", seed.key("ECC_NIST_P256", "SIGN_VERIFY"), "--message", "m", *sum(args.items(), ()))
    line = assert_error(r, 2, "ValidationException")
    assert value in line
