"""The same kmscli commands in three modes: on the local keyring, through --endpoint-url
against `kmscli serve`, and through --endpoint-url against moto_server (a KMS endpoint
nobody here wrote). Each test below runs in every mode it names; the remote modes have no
keyring and no passphrase (tests/endpoint_util.py), so any attempt to touch one fails.

kmscli's own workflows on remote keys are here too: multi-MiB files through an endpoint,
a file signed through an endpoint and checked by openssl with the exported PEM, and files
written in one mode opened in the other."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest

from conftest import PASSPHRASE, caller
from endpoint_util import local_caller, moto_server, remote_caller, remote_env
from serve_util import serve_in_thread

ALL = ["local", "serve", "moto"]
# moto implements no MessageType DIGEST (its docs say so: it signs the digest as a message),
# so a large file signed through moto is not the signature over the file; kmscli serve and
# AWS KMS implement it. docs/endpoints.md says so.
DIGEST_SIGNING = ["local", "serve"]
# moto encrypts under a disabled key, and its RSA "encryption" is not RSAES-OAEP (its own
# Decrypt opens only its own Encrypt's output): those checks run where the endpoint does them.
ENFORCES_KEY_STATE = ["local", "serve"]
REAL_RSA_OAEP = ["serve"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    local_caller(tmp)  # the keyring the server serves
    with serve_in_thread(tmp / "keyring") as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


@pytest.fixture(scope="module")
def modes(tmp_path_factory, request):
    """mode name -> a kms(*args) caller, each made on first use."""
    made = {}

    def get(mode):
        if mode not in made:
            tmp = tmp_path_factory.mktemp(mode)
            if mode == "local":
                made[mode] = local_caller(tmp)
            elif mode == "serve":
                e = request.getfixturevalue("served")
                made[mode] = remote_caller(remote_env(e.url, e.region, e.access_key_id, e.secret, tmp), mode)
                made[mode].endpoint = e
            else:
                url = request.getfixturevalue("moto_url")
                made[mode] = remote_caller(remote_env(url, "us-east-1", "testing", "testing", tmp), mode)
        return made[mode]

    return get


def key(kms, spec="SYMMETRIC_DEFAULT", usage=None) -> dict:
    args = ["create-key", "--key-spec", spec, "--description", f"endpoint test {spec}"]
    meta = kms(*args, *(["--key-usage", usage] if usage else [])).json()["KeyMetadata"]
    return meta


def no_keyring_touched(kms):
    if kms.mode != "local":
        assert not os.path.exists(kms.env["KMSCLI_KEYRING"])


# --- AWS-named commands: the same result shapes, the same rendering -------------------------


@pytest.mark.parametrize("mode", ALL)
def test_keys_are_created_described_and_listed(modes, mode):
    kms = modes(mode)
    meta = key(kms)
    assert meta["KeySpec"] == "SYMMETRIC_DEFAULT" and meta["Arn"].endswith(meta["KeyId"])
    described = kms("describe-key", "--key-id", meta["Arn"]).json()["KeyMetadata"]
    assert described["KeyId"] == meta["KeyId"] and described["Description"] == "endpoint test SYMMETRIC_DEFAULT"
    # Dates are printed as the keyring prints them, whoever answered.
    assert described["CreationDate"].endswith("+00:00") and "." not in described["CreationDate"]
    ids = kms("list-keys", "--query", "Keys[*].KeyId", "--output", "text").out.split()
    assert meta["KeyId"] in ids
    text = kms("describe-key", "--key-id", meta["KeyId"], "--query", "KeyMetadata.KeyState", "--output", "text")
    assert text.out == "Enabled\n"
    no_keyring_touched(kms)


@pytest.mark.parametrize("mode", ALL)
def test_encrypt_decrypt_with_context_and_out_files(modes, mode, tmp_path):
    kms = modes(mode)
    k = key(kms)["KeyId"]
    r = kms("encrypt", "--key-id", k, "--plaintext", "hello endpoint", "--encryption-context", "purpose=test",
            "--out", tmp_path / "ct.bin")
    assert r.status == 0, r.stderr
    assert r.json()["KeyId"].endswith(k) and "CiphertextBlob" not in r.json()
    r = kms("decrypt", "--in", tmp_path / "ct.bin", "--encryption-context", "purpose=test", "--out", "-")
    assert r.status == 0 and r.stdout == b"hello endpoint", r.stderr
    wrong = kms("decrypt", "--in", tmp_path / "ct.bin", "--encryption-context", "purpose=other")
    assert wrong.status == 3 and wrong.stdout == b""
    assert wrong.stderr.startswith("kmscli: error: InvalidCiphertextException: ")
    no_keyring_touched(kms)


@pytest.mark.parametrize("mode", ALL)
def test_data_keys_and_random(modes, mode):
    kms = modes(mode)
    k = key(kms)["KeyId"]
    data_key = kms("generate-data-key", "--key-id", k, "--key-spec", "AES_256").json()
    assert len(base64.b64decode(data_key["Plaintext"])) == 32
    back = kms("decrypt", "--ciphertext-blob", data_key["CiphertextBlob"], "--query", "Plaintext", "--output", "text")
    assert back.out.strip() == data_key["Plaintext"]
    random = kms("generate-random", "--number-of-bytes", "24", "--out", "-")
    assert random.status == 0 and len(random.stdout) == 24


@pytest.mark.parametrize("mode", ALL)
def test_sign_and_verify_a_message_and_a_bad_signature_is_status_1(modes, mode):
    kms = modes(mode)
    k = key(kms, "ECC_NIST_P256", "SIGN_VERIFY")["KeyId"]
    sig = kms("sign", "--key-id", k, "--message", "release 1.0", "--signing-algorithm", "ECDSA_SHA_256").json()
    ok = kms("verify", "--key-id", k, "--message", "release 1.0", "--signing-algorithm", "ECDSA_SHA_256",
             "--signature", sig["Signature"])
    assert ok.json()["SignatureValid"] is True
    bad = kms("verify", "--key-id", k, "--message", "release 1.1", "--signing-algorithm", "ECDSA_SHA_256",
              "--signature", sig["Signature"])
    assert bad.status == 1 and bad.stdout == b""
    assert bad.stderr.startswith("kmscli: error: KMSInvalidSignatureException: ")


@pytest.mark.parametrize("mode", ALL)
def test_macs(modes, mode):
    kms = modes(mode)
    k = key(kms, "HMAC_256", "GENERATE_VERIFY_MAC")["KeyId"]
    mac = kms("generate-mac", "--key-id", k, "--message", "m", "--mac-algorithm", "HMAC_SHA_256").json()["Mac"]
    assert len(base64.b64decode(mac)) == 32
    ok = kms("verify-mac", "--key-id", k, "--message", "m", "--mac-algorithm", "HMAC_SHA_256", "--mac", mac)
    assert ok.json()["MacValid"] is True


@pytest.mark.parametrize("mode", ALL)
def test_aliases_disable_and_not_found_map_to_the_local_statuses(modes, mode):
    kms = modes(mode)
    k = key(kms)["KeyId"]
    alias = f"alias/endpoint-{mode}-{k[:8]}"
    assert kms("create-alias", "--alias-name", alias, "--target-key-id", k).status == 0
    assert kms("encrypt", "--key-id", alias, "--plaintext", "x").status == 0
    names = kms("list-aliases", "--key-id", k, "--query", "Aliases[*].AliasName", "--output", "text").out.split()
    assert names == [alias]
    assert kms("disable-key", "--key-id", k).status == 0
    state = kms("describe-key", "--key-id", alias, "--query", "KeyMetadata.KeyState", "--output", "text")
    assert state.out == "Disabled\n"
    if mode in ENFORCES_KEY_STATE:
        disabled = kms("encrypt", "--key-id", alias, "--plaintext", "x")
        assert disabled.status == 3 and "DisabledException" in disabled.stderr.splitlines()[0]
    assert kms("enable-key", "--key-id", k).status == 0
    missing = kms("describe-key", "--key-id", "alias/no-such-alias")
    assert missing.status == 3 and missing.stderr.startswith("kmscli: error: NotFoundException: ")
    if mode != "local":  # the hint's next command goes to the same endpoint
        assert f"kmscli --endpoint-url {kms.env['KMSCLI_ENDPOINT_URL']} list-keys" in missing.stderr


# --- kmscli's own workflows on the endpoint's keys -------------------------------------------


@pytest.mark.parametrize("mode", ALL)
@pytest.mark.parametrize("spec", ["SYMMETRIC_DEFAULT", "RSA_2048"])
def test_multi_mib_files_round_trip(modes, mode, spec, tmp_path):
    kms = modes(mode)
    meta = key(kms, spec, "ENCRYPT_DECRYPT")
    plaintext = os.urandom(3 * (1 << 20) + 5)
    (tmp_path / "in").write_bytes(plaintext)
    context = ["--encryption-context", "purpose=backup"] if spec == "SYMMETRIC_DEFAULT" else []
    r = kms("encrypt-file", "--key-id", meta["KeyId"], "--in", tmp_path / "in", "--out", tmp_path / "in.kms", *context)
    assert r.json()["FileFormatVersion"] == 2 and r.json()["KeyId"] == meta["Arn"]
    data = (tmp_path / "in.kms").read_bytes()
    assert meta["Arn"].encode() in data[:200]  # the header names the endpoint's key ARN
    r = kms("decrypt-file", "--in", tmp_path / "in.kms", "--out", tmp_path / "out", *context)
    assert r.status == 0, r.stderr
    assert (tmp_path / "out").read_bytes() == plaintext
    if context:
        wrong = kms("decrypt-file", "--in", tmp_path / "in.kms", "--out", tmp_path / "out2",
                    "--encryption-context", "purpose=other")
        assert wrong.status == 3 and "InvalidCiphertextException" in wrong.stderr
        assert not (tmp_path / "out2").exists()
    no_keyring_touched(kms)


@pytest.mark.parametrize("mode", DIGEST_SIGNING)
def test_a_large_file_signed_through_the_endpoint_verifies_with_openssl(modes, mode, tmp_path):
    kms = modes(mode)
    k = key(kms, "ECC_NIST_P256", "SIGN_VERIFY")["KeyId"]
    (tmp_path / "release.tar").write_bytes(os.urandom(2 * (1 << 20) + 7))
    r = kms("sign", "--key-id", k, "--in", tmp_path / "release.tar", "--signing-algorithm", "ECDSA_SHA_256",
            "--out", tmp_path / "release.sig")
    assert r.status == 0, r.stderr
    r = kms("get-public-key", "--key-id", k, "--out", tmp_path / "key.pem")
    assert r.status == 0, r.stderr
    pem = (tmp_path / "key.pem").read_text()
    assert "KeyUsage: SIGN_VERIFY" in pem and "SigningAlgorithms: ECDSA_SHA_256" in pem
    check = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", tmp_path / "key.pem", "-signature", tmp_path / "release.sig",
         tmp_path / "release.tar"],
        capture_output=True, timeout=60,
    )
    assert check.returncode == 0 and b"Verified OK" in check.stdout, check.stderr
    # Offline verify needs no endpoint, no keyring: the PEM is enough.
    offline = kms("verify", "--public-key", tmp_path / "key.pem", "--in", tmp_path / "release.tar",
                  "--signature-file", tmp_path / "release.sig")
    assert offline.json()["SignatureValid"] is True
    # And the endpoint verifies the digest it signed.
    online = kms("verify", "--key-id", k, "--in", tmp_path / "release.tar", "--signing-algorithm", "ECDSA_SHA_256",
                 "--signature-file", tmp_path / "release.sig")
    assert online.json()["SignatureValid"] is True
    no_keyring_touched(kms)


@pytest.mark.parametrize("mode", REAL_RSA_OAEP)
def test_a_pem_exported_from_an_endpoint_encrypts_files_the_endpoint_opens(modes, mode, tmp_path):
    kms = modes(mode)
    k = key(kms, "RSA_2048", "ENCRYPT_DECRYPT")["KeyId"]
    assert kms("get-public-key", "--key-id", k, "--out", tmp_path / "rsa.pem").status == 0
    (tmp_path / "report").write_bytes(os.urandom(70000))
    r = kms("encrypt-file", "--public-key", tmp_path / "rsa.pem", "--in", tmp_path / "report", "--out",
            tmp_path / "report.kms")
    assert r.status == 0, r.stderr
    r = kms("decrypt-file", "--in", tmp_path / "report.kms", "--out", tmp_path / "back")
    assert r.status == 0, r.stderr
    assert (tmp_path / "back").read_bytes() == (tmp_path / "report").read_bytes()


def test_files_written_in_one_mode_open_in_the_other(modes, served, tmp_path):
    """One format: a file encrypted through `kmscli serve` opens on the served keyring
    directly, and one encrypted on the keyring opens through the endpoint."""
    remote = modes("serve")
    local = caller({"KMSCLI_KEYRING": str(served.keyring_path), "KMSCLI_PASSPHRASE": PASSPHRASE})
    k = key(remote)["KeyId"]
    (tmp_path / "in").write_bytes(os.urandom(1 << 20))
    assert remote("encrypt-file", "--key-id", k, "--in", tmp_path / "in", "--out", tmp_path / "a.kms").status == 0
    assert local("encrypt-file", "--key-id", k, "--in", tmp_path / "in", "--out", tmp_path / "b.kms").status == 0
    assert local("decrypt-file", "--in", tmp_path / "a.kms", "--out", tmp_path / "a").status == 0
    assert remote("decrypt-file", "--in", tmp_path / "b.kms", "--out", tmp_path / "b").status == 0
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == (tmp_path / "in").read_bytes()
    wrong_key = key(remote)["KeyId"]
    r = remote("decrypt-file", "--key-id", wrong_key, "--in", tmp_path / "b.kms", "--out", tmp_path / "c")
    assert r.status == 3 and "IncorrectKeyException" in r.stderr


def test_a_file_of_another_kms_names_where_its_key_is(modes, tmp_path):
    """A file encrypted under moto's key is refused by the keyring with the key's ARN."""
    remote, local = modes("moto"), modes("local")
    k = key(remote)
    (tmp_path / "in").write_bytes(b"x" * 1000)
    assert remote("encrypt-file", "--key-id", k["KeyId"], "--in", tmp_path / "in", "--out", tmp_path / "in.kms").status == 0
    r = local("decrypt-file", "--in", tmp_path / "in.kms", "--out", tmp_path / "out")
    assert r.status == 3 and not (tmp_path / "out").exists()


# --- what the endpoint mode refuses ------------------------------------------------------------


@pytest.mark.parametrize("command", [["init"], ["create-access-key"], ["list-access-keys"], ["lock"],
                                     ["rotate-master-key"], ["serve"]])
def test_keyring_commands_are_refused_with_an_endpoint(modes, command):
    kms = modes("serve")
    r = kms(*command)
    assert r.status == 2 and r.stdout == b""
    assert r.stderr.startswith(f"kmscli: error: ValidationException: {command[0]} works on a local keyring")
    no_keyring_touched(kms)


def test_region_and_profile_need_an_endpoint(modes):
    kms = modes("local")
    for option, value in (("--region", "eu-west-1"), ("--profile", "prod")):
        r = kms("list-keys", option, value)
        assert r.status == 2 and f"{option} applies only with --endpoint-url" in r.stderr


def test_global_options_after_the_command_select_the_endpoint(modes, served, tmp_path):
    """--endpoint-url and --region may follow the command name, as aws-cli takes them."""
    local = modes("local")
    env = {"AWS_ACCESS_KEY_ID": served.access_key_id, "AWS_SECRET_ACCESS_KEY": served.secret,
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "AWS_EC2_METADATA_DISABLED": "true"}
    k = key(modes("serve"))["KeyId"]
    r = local("describe-key", "--key-id", k, "--endpoint-url", served.url, "--region", served.region, env=env)
    assert r.json()["KeyMetadata"]["KeyId"] == k
    assert local("describe-key", "--key-id", k).status == 3  # not in the local keyring


def test_endpoint_url_aws_resolves_as_aws_cli_does(modes, served, tmp_path):
    """`--endpoint-url aws` means AWS KMS at the endpoint botocore resolves: here
    AWS_ENDPOINT_URL_KMS (set for aws-cli and the SDKs) points it at the served keyring, and
    the credentials come from a profile of a shared credentials file, as aws-cli reads them."""
    k = key(modes("serve"))["KeyId"]
    (tmp_path / "credentials").write_text(
        f"[team]\naws_access_key_id = {served.access_key_id}\naws_secret_access_key = {served.secret}\n"
    )
    (tmp_path / "config").write_text(f"[profile team]\nregion = {served.region}\n")
    env = {**remote_env("aws", "unused", "unused", "unused", tmp_path),
           "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_REGION": None,
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"), "AWS_CONFIG_FILE": str(tmp_path / "config"),
           "AWS_ENDPOINT_URL_KMS": served.url}
    kms = caller(env)
    r = kms("describe-key", "--key-id", k, "--profile", "team")
    assert r.json()["KeyMetadata"]["KeyId"] == k
