"""kmscli against AWS's own service model (botocore): every command's JSON output fits its
operation's output shape, every input member is an option, every error is one the model lets
the operation raise, and the members a keyring cannot honour are refused with a reason."""

from __future__ import annotations

import base64
import json

import pytest

from aws_model import COMMON_ERRORS, MODEL, check_output, operation_of, option_of
from conftest import caller, create_key, make_keyring
from kmscli.cli.main import COMMANDS, cli


def _command(name):
    import click

    return cli.get_command(click.Context(cli), name)


AWS_COMMANDS = sorted(c for c in COMMANDS if operation_of(c) is not None)


def test_the_aws_commands_are_the_operations_table():
    from kmscli.service.operations import OPERATIONS

    assert {operation_of(c).name for c in AWS_COMMANDS} == set(OPERATIONS)


@pytest.mark.parametrize("command", AWS_COMMANDS)
def test_every_input_member_is_an_option(command):
    options = {opt for p in _command(command).params for opt in getattr(p, "opts", [])}
    missing = [option_of(m) for m in operation_of(command).input_shape.members if option_of(m) not in options]
    assert not missing, missing


# --- output shapes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    kms = caller(make_keyring(tmp_path_factory.mktemp("model") / "keyring"))
    keys = {
        "sym": create_key(kms, "SYMMETRIC_DEFAULT", None, "--description", "d", "--tag", "a=1"),
        "rsa": create_key(kms, "RSA_2048", "ENCRYPT_DECRYPT"),
        "sig": create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY"),
        "hmac": create_key(kms, "HMAC_256"),
        "agree": create_key(kms, "ECC_NIST_P256", "KEY_AGREEMENT"),
        "ext": create_key(kms, "SYMMETRIC_DEFAULT", None, "--origin", "EXTERNAL"),
    }
    keys["off"] = create_key(kms)
    keys["doomed"] = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    assert kms("disable-key", "--key-id", keys["off"]).status == 0
    assert kms("schedule-key-deletion", "--key-id", keys["doomed"]).status == 0
    assert kms("create-alias", "--alias-name", "alias/m", "--target-key-id", keys["sym"]).status == 0
    kms.keys = keys
    return kms


def _printed(r):
    assert r.status == 0, r.stderr
    return json.loads(r.stdout) if r.stdout.strip() else {}


def test_every_commands_output_fits_its_shape(ring, tmp_path):
    kms, k = ring, ring.keys
    seen = set()

    def run(command, *args):
        printed = _printed(kms(command, *args))
        check_output(command, printed)
        seen.add(command)
        return printed

    run("create-key", "--key-spec", "RSA_3072", "--key-usage", "SIGN_VERIFY", "--tag", "t=v")
    run("describe-key", "--key-id", "alias/m")
    for key in k.values():
        run("describe-key", "--key-id", key)
    run("list-keys")
    run("list-keys", "--limit", "1")
    run("update-key-description", "--key-id", k["sym"], "--description", "e")
    blob = run("encrypt", "--key-id", k["sym"], "--plaintext", "x", "--encryption-context", "a=b")["CiphertextBlob"]
    run("decrypt", "--ciphertext-blob", blob, "--encryption-context", "a=b")
    rsa_blob = run("encrypt", "--key-id", k["rsa"], "--plaintext", "x", "--encryption-algorithm", "RSAES_OAEP_SHA_256")["CiphertextBlob"]
    run("decrypt", "--ciphertext-blob", rsa_blob, "--key-id", k["rsa"], "--encryption-algorithm", "RSAES_OAEP_SHA_256")
    run("re-encrypt", "--ciphertext-blob", blob, "--source-encryption-context", "a=b", "--destination-key-id", k["sym"])
    run("generate-data-key", "--key-id", k["sym"], "--key-spec", "AES_256")
    run("generate-data-key-without-plaintext", "--key-id", k["sym"], "--number-of-bytes", "16")
    run("generate-data-key-pair", "--key-id", k["sym"], "--key-pair-spec", "ECC_NIST_P256")
    run("generate-data-key-pair-without-plaintext", "--key-id", k["sym"], "--key-pair-spec", "ECC_NIST_P256")
    run("generate-random", "--number-of-bytes", "8")
    sig = run("sign", "--key-id", k["sig"], "--message", "m", "--signing-algorithm", "ECDSA_SHA_256")["Signature"]
    run("verify", "--key-id", k["sig"], "--message", "m", "--signing-algorithm", "ECDSA_SHA_256", "--signature", sig)
    # kmscli's own ways in to AWS-named commands keep AWS's shape: a file larger than AWS's
    # limit (signed as its digest), and an offline check with an exported public key.
    (tmp_path / "big").write_bytes(b"b" * 10000)
    big_sig = run("sign", "--key-id", k["sig"], "--in", tmp_path / "big", "--signing-algorithm", "ECDSA_SHA_256")["Signature"]
    run("verify", "--key-id", k["sig"], "--in", tmp_path / "big", "--signing-algorithm", "ECDSA_SHA_256", "--signature", big_sig)
    assert kms("get-public-key", "--key-id", k["sig"], "--out", tmp_path / "sig.pem").status == 0
    run("verify", "--public-key", tmp_path / "sig.pem", "--in", tmp_path / "big", "--signature", big_sig)
    run("get-public-key", "--key-id", k["sig"], "--out", tmp_path / "again.pem")
    for key in ("sig", "rsa", "agree"):
        run("get-public-key", "--key-id", k[key])
    mac = run("generate-mac", "--key-id", k["hmac"], "--message", "m", "--mac-algorithm", "HMAC_SHA_256")["Mac"]
    run("verify-mac", "--key-id", k["hmac"], "--message", "m", "--mac-algorithm", "HMAC_SHA_256", "--mac", mac)
    (tmp_path / "peer.der").write_bytes(base64.b64decode(kms("get-public-key", "--key-id", k["agree"]).json()["PublicKey"]))
    run("derive-shared-secret", "--key-id", k["agree"], "--key-agreement-algorithm", "ECDH", "--public-key", f"fileb://{tmp_path / 'peer.der'}")
    run("create-alias", "--alias-name", "alias/n", "--target-key-id", k["sym"])
    run("update-alias", "--alias-name", "alias/n", "--target-key-id", k["sym"])
    run("list-aliases")
    run("list-aliases", "--key-id", k["sym"])
    run("delete-alias", "--alias-name", "alias/n")
    run("tag-resource", "--key-id", k["sym"], "--tag", "b=2")
    run("list-resource-tags", "--key-id", k["sym"])
    run("list-resource-tags", "--key-id", k["sym"], "--limit", "1")
    run("untag-resource", "--key-id", k["sym"], "--tag-keys", "b")
    run("enable-key-rotation", "--key-id", k["sym"])
    run("get-key-rotation-status", "--key-id", k["sym"])
    run("rotate-key-on-demand", "--key-id", k["sym"])
    run("list-key-rotations", "--key-id", k["sym"])
    run("list-key-rotations", "--key-id", k["sym"], "--include-key-material", "ALL_KEY_MATERIAL")
    run("disable-key-rotation", "--key-id", k["sym"])
    run("get-key-policy", "--key-id", k["sym"])
    run("get-key-policy", "--key-id", k["sig"], "--policy-name", "default")
    run("list-key-policies", "--key-id", k["sym"])
    run("list-key-policies", "--key-id", k["sym"], "--limit", "1")
    run("disable-key", "--key-id", k["hmac"])
    run("enable-key", "--key-id", k["hmac"])
    victim = create_key(kms)
    run("schedule-key-deletion", "--key-id", victim, "--pending-window-in-days", "7")
    run("describe-key", "--key-id", victim)
    run("cancel-key-deletion", "--key-id", victim)
    run("get-parameters-for-import", "--key-id", k["ext"], "--wrapping-algorithm", "RSAES_OAEP_SHA_256", "--wrapping-key-spec", "RSA_2048")
    import_lifecycle_outputs = [c for c in AWS_COMMANDS if c not in seen]
    # import-key-material and delete-imported-key-material: checked in the import lifecycle test.
    assert sorted(import_lifecycle_outputs) == ["delete-imported-key-material", "import-key-material"]


def test_an_invented_field_fails_the_check():
    with pytest.raises(AssertionError, match="KeySpec"):
        check_output("list-keys", {"Keys": [{"KeyId": "k", "KeyArn": "a", "KeySpec": "X"}], "Truncated": False})
    with pytest.raises(AssertionError, match="Aliases"):
        check_output("describe-key", {"KeyMetadata": {"KeyId": "k", "Aliases": []}})


def test_list_keys_reads_no_key_file(ring, monkeypatch):
    """AWS's ListKeys entry needs no key file: a page stays cheap however large the keyring."""
    from kmscli.keyring import Keyring

    def refuse(*a, **k):
        raise AssertionError("list-keys read a key file")

    monkeypatch.setattr(Keyring, "load_key", refuse)
    printed = _printed(ring("list-keys"))
    assert printed["Keys"] and all(set(e) == {"KeyId", "KeyArn"} for e in printed["Keys"])


def test_table_and_detail_keep_the_terminal_view(ring):
    r = ring("list-keys", "--output", "table")
    assert r.status == 0 and "SYMMETRIC_DEFAULT" in r.out and "alias/m" in r.out
    detailed = _printed(ring("list-keys", "--detail"))["Keys"]
    assert {"KeySpec", "KeyState", "Aliases"} <= set(detailed[0])


# --- members that a keyring honours its own way, or refuses -------------------------------------


def test_customer_master_key_spec_is_the_deprecated_key_spec(ring):
    meta = _printed(ring("create-key", "--customer-master-key-spec", "HMAC_384"))["KeyMetadata"]
    assert meta["KeySpec"] == meta["CustomerMasterKeySpec"] == "HMAC_384"
    assert _printed(ring("create-key", "--key-spec", "HMAC_224", "--customer-master-key-spec", "HMAC_224"))
    r = ring("create-key", "--key-spec", "HMAC_224", "--customer-master-key-spec", "HMAC_256")
    assert r.status == 2 and "ValidationException" in r.stderr


def test_grant_tokens_are_accepted_and_checked(ring):
    k = ring.keys
    r = ring("encrypt", "--key-id", k["sym"], "--plaintext", "x", "--grant-tokens", "tok1", "--grant-tokens", "tok2")
    assert r.status == 0, r.stderr
    many = [a for i in range(11) for a in ("--grant-tokens", f"t{i}")]
    r = ring("describe-key", "--key-id", k["sym"], *many)
    assert r.status == 2 and "ValidationException" in r.stderr and r.stdout == b""


def test_dry_run_answers_as_aws(ring):
    k = ring.keys
    r = ring("encrypt", "--key-id", k["sym"], "--plaintext", "x", "--dry-run")
    assert r.status == 3 and r.stdout == b"" and "DryRunOperationException" in r.stderr
    # A request that would fail fails as it would: the dry run is no success.
    r = ring("encrypt", "--key-id", k["sig"], "--plaintext", "x", "--dry-run")
    assert r.status == 3 and "InvalidKeyUsageException" in r.stderr
    blob = ring("encrypt", "--key-id", k["sym"], "--plaintext", "x").json()["CiphertextBlob"]
    r = ring("decrypt", "--ciphertext-blob", blob, "--encryption-context", "wrong=1", "--dry-run")
    assert "InvalidCiphertextException" in r.stderr
    # IGNORE_CIPHERTEXT: only the key is checked.
    junk = base64.b64encode(b"not a ciphertext").decode()
    r = ring("decrypt", "--ciphertext-blob", junk, "--key-id", k["sym"], "--dry-run", "--dry-run-modifiers", "IGNORE_CIPHERTEXT")
    assert "DryRunOperationException" in r.stderr
    r = ring("decrypt", "--ciphertext-blob", junk, "--key-id", k["sym"], "--dry-run-modifiers", "IGNORE_CIPHERTEXT")
    assert r.status == 2 and "ValidationException" in r.stderr
    r = ring("re-encrypt", "--ciphertext-blob", junk, "--source-key-id", k["sym"], "--destination-key-id", k["sym"],
             "--dry-run", "--dry-run-modifiers", "IGNORE_CIPHERTEXT")
    assert "DryRunOperationException" in r.stderr
    for args in (("sign", "--key-id", k["sig"], "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"),
                 ("generate-mac", "--key-id", k["hmac"], "--message", "m", "--mac-algorithm", "HMAC_SHA_256"),
                 ("generate-data-key", "--key-id", k["sym"], "--key-spec", "AES_128")):
        r = ring(*args, "--dry-run")
        assert r.status == 3 and r.stdout == b"" and "DryRunOperationException" in r.stderr, args
    assert ring("encrypt", "--key-id", k["sym"], "--plaintext", "x", "--no-dry-run").status == 0


@pytest.mark.parametrize(
    "args, error",
    [
        (("create-key", "--policy", '{"Version": "2012-10-17"}'), "UnsupportedOperationException"),
        (("create-key", "--bypass-policy-lockout-safety-check"), "UnsupportedOperationException"),
        (("create-key", "--multi-region"), "UnsupportedOperationException"),
        (("create-key", "--custom-key-store-id", "cks-1234567890abcdef0"), "CustomKeyStoreNotFoundException"),
        (("create-key", "--xks-key-id", "k"), "UnsupportedOperationException"),
        (("generate-random", "--number-of-bytes", "8", "--custom-key-store-id", "cks-1"), "CustomKeyStoreNotFoundException"),
        (("generate-random", "--number-of-bytes", "8", "--recipient", "KeyEncryptionAlgorithm=RSAES_OAEP_SHA_256"), "UnsupportedOperationException"),
    ],
)
def test_what_a_keyring_has_not_is_refused_with_a_reason(ring, args, error):
    before = _printed(ring("list-keys"))
    r = ring(*args)
    assert r.status == 3 and r.stdout == b"" and error in r.stderr, r.stderr
    assert r.stderr.count("kmscli: error:") == 1
    assert "no such option" not in r.stderr.lower()
    assert _printed(ring("list-keys")) == before
    assert error in {e.name for e in operation_of(args[0]).error_shapes}


def test_recipient_is_refused_where_aws_takes_it(ring):
    k = ring.keys
    blob = ring("encrypt", "--key-id", k["sym"], "--plaintext", "x").json()["CiphertextBlob"]
    r = ring("decrypt", "--ciphertext-blob", blob, "--recipient", "file:///dev/null")
    assert r.status == 2 and "Nitro" in r.stderr and "ValidationException" in r.stderr
    assert ring("create-key", "--no-multi-region", "--no-bypass-policy-lockout-safety-check").status == 0


def test_resource_owners(ring):
    assert _printed(ring("list-keys", "--resource-owners", "SELF"))["Keys"]
    assert _printed(ring("list-keys", "--resource-owners", "OTHER_ACCOUNTS_VIA_RAM"))["Keys"] == []


# --- exception names -----------------------------------------------------------------------------

FAILURES = [
    ("describe-key", "--key-id", "alias/none"),
    ("describe-key", "--key-id", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("list-keys", "--marker", "nope"),
    ("list-keys", "--limit", "0"),
    ("encrypt", "--key-id", "{sig}", "--plaintext", "x"),
    ("encrypt", "--key-id", "{sym}", "--plaintext", "x", "--encryption-algorithm", "RSAES_OAEP_SHA_1"),
    ("decrypt", "--ciphertext-blob", "AAAA"),
    ("decrypt", "--ciphertext-blob", "{blob}", "--key-id", "{rsa}"),
    ("re-encrypt", "--ciphertext-blob", "AAAA", "--destination-key-id", "{sym}"),
    ("sign", "--key-id", "{sym}", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"),
    ("verify", "--key-id", "{sig}", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256", "--signature", "AAAA"),
    ("verify-mac", "--key-id", "{hmac}", "--message", "m", "--mac-algorithm", "HMAC_SHA_256", "--mac", "AAAA"),
    ("generate-mac", "--key-id", "{hmac}", "--message", "m", "--mac-algorithm", "HMAC_SHA_512"),
    ("get-public-key", "--key-id", "{sym}"),
    ("generate-data-key", "--key-id", "{rsa}", "--key-spec", "AES_256"),
    ("generate-data-key-pair", "--key-id", "{sig}", "--key-pair-spec", "RSA_2048"),
    ("derive-shared-secret", "--key-id", "{sig}", "--key-agreement-algorithm", "ECDH", "--public-key", "/dev/null"),
    ("create-alias", "--alias-name", "alias/m", "--target-key-id", "{sym}"),
    ("create-alias", "--alias-name", "nope", "--target-key-id", "{sym}"),
    ("create-alias", "--alias-name", "alias/aws/x", "--target-key-id", "{sym}"),
    ("update-alias", "--alias-name", "nope", "--target-key-id", "{sym}"),
    ("update-alias", "--alias-name", "alias/aws/x", "--target-key-id", "{sym}"),
    ("update-alias", "--alias-name", "alias/absent", "--target-key-id", "{sym}"),
    ("update-alias", "--alias-name", "alias/m", "--target-key-id", "{hmac}"),
    ("delete-alias", "--alias-name", "nope"),
    ("delete-alias", "--alias-name", "alias/aws/x"),
    ("delete-alias", "--alias-name", "alias/absent"),
    ("list-aliases", "--marker", "!"),
    ("tag-resource", "--key-id", "{sym}", "--tag", "aws:x=1"),
    ("list-resource-tags", "--key-id", "{sym}", "--marker", "zz"),
    ("enable-key-rotation", "--key-id", "{sig}"),
    ("disable-key-rotation", "--key-id", "{ext}"),
    ("get-key-rotation-status", "--key-id", "{hmac}"),
    ("rotate-key-on-demand", "--key-id", "{sig}"),
    ("rotate-key-on-demand", "--key-id", "{ext}"),
    ("list-key-rotations", "--key-id", "{sig}"),
    ("list-key-rotations", "--key-id", "{sym}", "--marker", "x"),
    ("schedule-key-deletion", "--key-id", "{sym}", "--pending-window-in-days", "3"),
    ("cancel-key-deletion", "--key-id", "{sym}"),
    ("enable-key", "--key-id", "alias/none"),
    ("disable-key", "--key-id", "{ext}"),
    ("update-key-description", "--key-id", "alias/none", "--description", "x"),
    ("get-parameters-for-import", "--key-id", "{sym}", "--wrapping-algorithm", "RSAES_OAEP_SHA_256", "--wrapping-key-spec", "RSA_2048"),
    ("import-key-material", "--key-id", "{ext}", "--import-token", "AAAA", "--encrypted-key-material", "AAAA",
     "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE"),
    ("delete-imported-key-material", "--key-id", "{sym}"),
    ("delete-imported-key-material", "--key-id", "{ext}", "--key-material-id", "a" * 64),
    ("generate-random", "--number-of-bytes", "0"),
    ("encrypt", "--key-id", "{off}", "--plaintext", "x"),
    ("generate-data-key", "--key-id", "{off}", "--number-of-bytes", "8"),
    ("re-encrypt", "--ciphertext-blob", "{blob}", "--destination-key-id", "{off}"),
    ("sign", "--key-id", "{doomed}", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"),
    ("get-public-key", "--key-id", "{doomed}"),
    ("enable-key-rotation", "--key-id", "{off}"),
    ("rotate-key-on-demand", "--key-id", "{off}"),
    ("tag-resource", "--key-id", "{doomed}", "--tag", "a=1"),
    ("create-alias", "--alias-name", "alias/z", "--target-key-id", "{doomed}"),
    ("list-aliases", "--key-id", "1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("create-key", "--tag", "aws:x=1"),
    ("create-key", "--key-spec", "SM2"),
    ("encrypt", "--key-id", "{sym}", "--plaintext", "x", "--dry-run"),
    ("decrypt", "--ciphertext-blob", "{blob}", "--dry-run"),
    ("verify", "--key-id", "{sig}", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256", "--signature", "AAAA", "--dry-run"),
]


@pytest.mark.parametrize("args", FAILURES, ids=lambda a: " ".join(a)[:60])
def test_every_error_is_one_the_model_lists_for_the_operation(ring, args):
    k = dict(ring.keys)
    k["blob"] = ring("encrypt", "--key-id", k["sym"], "--plaintext", "x").json()["CiphertextBlob"]
    r = ring(*(a.format(**k) for a in args))
    assert r.status not in (0,), r.out
    name = r.stderr.split("kmscli: error: ", 1)[1].split(":", 1)[0]
    allowed = {e.name for e in operation_of(args[0]).error_shapes} | COMMON_ERRORS
    assert name in allowed, (name, args[0])


def test_the_operations_table_answers_in_awss_shapes(tmp_path):
    """What `kmscli serve` returns: the service's responses through kmscli.service.operations,
    each checked against its operation's output shape (blobs as bytes, printed base64)."""
    from conftest import PASSPHRASE

    from kmscli.cli.render import printable
    from kmscli.keyring import Keyring
    from kmscli.service import operations

    Keyring.create(tmp_path / "ring", PASSPHRASE.encode(), scrypt_log2_n=10)
    keyring = Keyring.open(tmp_path / "ring", unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    seen = set()

    def call(name, request=None):
        answer = operations.invoke(keyring if operations.OPERATIONS[name].uses_keyring else None, name, request or {})
        shape = MODEL.operation_model(name).output_shape
        if shape is None:
            assert answer == {}, (name, answer)
        else:
            from aws_model import check_shape

            check_shape(shape, printable(answer))
        seen.add(name)
        return answer

    sym = call("CreateKey", {"Tags": [{"TagKey": "a", "TagValue": "b"}]})["KeyMetadata"]["KeyId"]
    sig = call("CreateKey", {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"})["KeyMetadata"]["KeyId"]
    mac = call("CreateKey", {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"})["KeyMetadata"]["KeyId"]
    agree = call("CreateKey", {"KeySpec": "ECC_NIST_P384", "KeyUsage": "KEY_AGREEMENT"})["KeyMetadata"]["KeyId"]
    ext = call("CreateKey", {"Origin": "EXTERNAL"})["KeyMetadata"]["KeyId"]
    call("DescribeKey", {"KeyId": sym, "GrantTokens": ["t"]})
    call("ListKeys", {"Limit": 2})
    call("UpdateKeyDescription", {"KeyId": sym, "Description": "x"})
    blob = call("Encrypt", {"KeyId": sym, "Plaintext": b"p", "EncryptionContext": {"a": "b"}})["CiphertextBlob"]
    call("Decrypt", {"CiphertextBlob": blob, "EncryptionContext": {"a": "b"}})
    call("ReEncrypt", {"CiphertextBlob": blob, "SourceEncryptionContext": {"a": "b"}, "DestinationKeyId": sym})
    call("GenerateDataKey", {"KeyId": sym, "NumberOfBytes": 32})
    call("GenerateDataKeyWithoutPlaintext", {"KeyId": sym, "KeySpec": "AES_128"})
    call("GenerateDataKeyPair", {"KeyId": sym, "KeyPairSpec": "ECC_NIST_P256"})
    call("GenerateDataKeyPairWithoutPlaintext", {"KeyId": sym, "KeyPairSpec": "ECC_NIST_P256"})
    call("GenerateRandom", {"NumberOfBytes": 4})
    signature = call("Sign", {"KeyId": sig, "Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256"})["Signature"]
    call("Verify", {"KeyId": sig, "Message": b"m", "Signature": signature, "SigningAlgorithm": "ECDSA_SHA_256"})
    call("GetPublicKey", {"KeyId": sig})
    tag = call("GenerateMac", {"KeyId": mac, "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"})["Mac"]
    call("VerifyMac", {"KeyId": mac, "Message": b"m", "Mac": tag, "MacAlgorithm": "HMAC_SHA_256"})
    peer = call("GetPublicKey", {"KeyId": agree})["PublicKey"]
    call("DeriveSharedSecret", {"KeyId": agree, "KeyAgreementAlgorithm": "ECDH", "PublicKey": peer})
    call("CreateAlias", {"AliasName": "alias/x", "TargetKeyId": sym})
    call("UpdateAlias", {"AliasName": "alias/x", "TargetKeyId": sym})
    call("ListAliases", {"KeyId": sym})
    call("DeleteAlias", {"AliasName": "alias/x"})
    call("TagResource", {"KeyId": sym, "Tags": [{"TagKey": "c", "TagValue": "d"}]})
    call("ListResourceTags", {"KeyId": sym, "Limit": 1})
    call("UntagResource", {"KeyId": sym, "TagKeys": ["c"]})
    call("EnableKeyRotation", {"KeyId": sym, "RotationPeriodInDays": 90})
    call("GetKeyRotationStatus", {"KeyId": sym})
    call("RotateKeyOnDemand", {"KeyId": sym})
    call("ListKeyRotations", {"KeyId": sym, "IncludeKeyMaterial": "ALL_KEY_MATERIAL"})
    call("DisableKeyRotation", {"KeyId": sym})
    call("GetKeyPolicy", {"KeyId": sym, "PolicyName": "default"})
    call("ListKeyPolicies", {"KeyId": sym, "Limit": 1})
    call("DisableKey", {"KeyId": mac})
    call("EnableKey", {"KeyId": mac})
    call("ScheduleKeyDeletion", {"KeyId": mac, "PendingWindowInDays": 7})
    call("CancelKeyDeletion", {"KeyId": mac})
    call("GetParametersForImport", {"KeyId": ext, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"})
    call("DeleteImportedKeyMaterial", {"KeyId": ext})
    # ImportKeyMaterial needs material wrapped by openssl: tests/test_import_rotation.py checks its shape.
    assert set(operations.OPERATIONS) - seen == {"ImportKeyMaterial"}
