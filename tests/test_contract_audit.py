"""Differences between the tool and /work/shared/cli-contract.md (or aws-cli, where the
contract is silent) found by trying every promise for real; one test per fix."""

from __future__ import annotations

import pytest

from conftest import create_key
from seed_keys import assert_error


@pytest.mark.parametrize(
    "args, command",
    [
        (["encrypt", "--plaintext", "x", "--key-id"], "encrypt"),
        (["list-keys", "--limit"], "list-keys"),
        (["sign", "--output"], "sign"),
    ],
)
def test_a_missing_option_value_hints_at_the_command_that_was_typed(kms, args, command):
    r = kms(*args)
    assert_error(r, 2, "ValidationException")
    assert r.stderr.splitlines()[1] == f"kmscli: hint: run: kmscli {command} --help"


def test_a_missing_global_option_value_hints_at_kmscli_help(kms):
    r = kms("--output")
    assert_error(r, 2, "ValidationException")
    assert "COMMAND" not in r.stderr


@pytest.mark.parametrize(
    "spec, args",
    [
        ("ECC_NIST_P256", ["verify", "--key-id", "K", "--signing-algorithm", "ECDSA_SHA_256", "--in", "-", "--signature-file", "-"]),
        ("ECC_NIST_P256", ["verify", "--key-id", "K", "--signing-algorithm", "ECDSA_SHA_256", "--message", "fileb://-", "--signature", "fileb://-"]),
        ("HMAC_256", ["verify-mac", "--key-id", "K", "--mac-algorithm", "HMAC_SHA_256", "--in", "-", "--mac-file", "-"]),
        (None, ["verify", "--public-key", "-", "--in", "-", "--signature", "AAAA"]),
        (None, ["encrypt-file", "--public-key", "-", "--in", "-", "--out", "OUT"]),
    ],
)
def test_two_inputs_cannot_both_read_standard_input(kms, tmp_path, spec, args):
    # The second reader would find stdin drained and fail as if its value were empty
    # ("Mac must be 1 to 6144 bytes"), or check a signature over the wrong bytes.
    key = create_key(kms, spec) if spec else None
    out = tmp_path / "out.bin"
    args = [key if a == "K" else str(out) if a == "OUT" else a for a in args]
    r = kms(*args, input=b"some bytes\n")
    line = assert_error(r, 2, "ValidationException")
    assert "standard input" in line
    assert not out.exists()


def test_one_input_from_standard_input_still_works(kms):
    key = create_key(kms, "HMAC_256")
    mac = kms("generate-mac", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--message", "m").json()["Mac"]
    r = kms("verify-mac", "--key-id", key, "--mac-algorithm", "HMAC_SHA_256", "--in", "-", "--mac", mac, input=b"m")
    assert r.json()["MacValid"] is True


def test_re_encrypt_with_the_wrong_context_hints_at_the_source_context_option(kms):
    key = create_key(kms)
    blob = kms("encrypt", "--key-id", key, "--plaintext", "x", "--encryption-context", "a=b").json()["CiphertextBlob"]
    r = kms("re-encrypt", "--ciphertext-blob", blob, "--destination-key-id", key)
    assert_error(r, 3, "InvalidCiphertextException")
    hint = r.stderr.splitlines()[1]
    assert "--source-encryption-context" in hint


@pytest.mark.parametrize("before", [True, False])
@pytest.mark.parametrize("option", ["--keyring", "--passphrase-file"])
def test_an_empty_keyring_or_passphrase_file_option_is_refused(kms, tmp_path, monkeypatch, before, option):
    # Before the command it meant the default keyring; after it, the current directory
    # (`init --keyring ""` made a keyring there). Now both are a usage error.
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    args = [option, "", "list-keys"] if before else ["list-keys", option, ""]
    line = assert_error(kms(*args), 2, "ValidationException")
    assert option in line and "empty" in line
    r = kms(*(["init", option, ""] if not before else [option, "", "init"]))
    assert_error(r, 2, "ValidationException")
    assert list(cwd.iterdir()) == []


def test_an_empty_keyring_variable_still_means_the_default(kms, tmp_path):
    r = kms("list-keys", env={"KMSCLI_KEYRING": "", "XDG_DATA_HOME": str(tmp_path / "data")})
    line = assert_error(r, 3, "KeyringNotFoundException")
    assert str(tmp_path / "data" / "kmscli" / "keyring") in line


def test_keyring_given_after_the_command_is_checked_as_before_it(kms, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for args in (["--keyring", a_file, "init"], ["init", "--keyring", a_file], ["list-keys", "--keyring", a_file]):
        line = assert_error(kms(*args), 2, "ValidationException")
        assert "is a file" in line


@pytest.mark.parametrize("xdg", ["", "relative/data"])
def test_default_keyring_ignores_an_empty_or_relative_xdg_data_home(kms, tmp_path, xdg):
    # XDG Base Directory spec: a relative path in XDG_DATA_HOME is invalid and ignored.
    home = tmp_path / "home"
    r = kms("list-keys", env={"KMSCLI_KEYRING": None, "XDG_DATA_HOME": xdg, "HOME": str(home)})
    line = assert_error(r, 3, "KeyringNotFoundException")
    assert f"no keyring at {home}/.local/share/kmscli/keyring" in line


def test_init_over_an_existing_keyring_hints_at_another_directory(kms):
    r = kms("init", "--scrypt-log2-n", "10")
    assert_error(r, 3, "AlreadyExistsException")
    assert "--keyring" in r.stderr.splitlines()[1]


@pytest.mark.parametrize("value, message", [("-", "--new-passphrase-file - is not allowed"), ("", "--new-passphrase-file must not be empty")])
def test_change_passphrase_names_the_new_passphrase_option_it_was_given(kms, value, message):
    # An empty value used to fall through to KMSCLI_NEW_PASSPHRASE silently.
    r = kms("change-passphrase", "--new-passphrase-file", value, env={"KMSCLI_NEW_PASSPHRASE": "other"})
    line = assert_error(r, 2, "ValidationException")
    assert message in line


def _snapshot(directory):
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_get_parameters_for_import_that_cannot_write_its_output_changes_nothing(kms, keyring_env, tmp_path):
    key = kms("create-key", "--origin", "EXTERNAL").json()["KeyMetadata"]["KeyId"]
    args = ["get-parameters-for-import", "--key-id", key, "--wrapping-algorithm", "RSAES_OAEP_SHA_256",
            "--wrapping-key-spec", "RSA_2048"]
    kms(*args).json()  # parameters a user may already have
    keyring = tmp_path / "keyring"
    before = _snapshot(keyring)
    r = kms(*args, "--public-key-out", tmp_path / "pub.der", "--import-token-out", tmp_path / "no-such-dir" / "token")
    assert_error(r, 5, "FileAccessException")
    assert _snapshot(keyring) == before  # the earlier token is still the valid one
    assert not (tmp_path / "pub.der").exists()


def test_get_parameters_for_import_to_standard_output_prints_only_the_raw_bytes(kms, tmp_path):
    key = kms("create-key", "--origin", "EXTERNAL").json()["KeyMetadata"]["KeyId"]
    args = ["get-parameters-for-import", "--key-id", key, "--wrapping-algorithm", "RSAES_OAEP_SHA_256",
            "--wrapping-key-spec", "RSA_2048"]
    r = kms(*args, "--public-key-out", "-", "--import-token-out", tmp_path / "token")
    assert r.status == 0, r.stderr
    assert r.stdout[:1] == b"\x30" and b"{" not in r.stdout[-4:]  # DER alone, no JSON after it
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    load_der_public_key(r.stdout)
    assert_error(kms(*args, "--public-key-out", "-", "--import-token-out", "-"), 2, "ValidationException")


def test_decrypt_of_an_rsa_ciphertext_without_key_id_hints_at_key_id_and_algorithm(kms):
    key = create_key(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    blob = kms("encrypt", "--key-id", key, "--plaintext", "x", "--encryption-algorithm", "RSAES_OAEP_SHA_256").json()["CiphertextBlob"]
    r = kms("decrypt", "--ciphertext-blob", blob)
    assert_error(r, 3, "InvalidCiphertextException")
    assert "--key-id" in r.stderr and "--encryption-algorithm" in r.stderr
    sym = create_key(kms)
    r = kms("re-encrypt", "--ciphertext-blob", blob, "--destination-key-id", sym)
    assert_error(r, 3, "InvalidCiphertextException")
    assert "--source-key-id" in r.stderr and "--source-encryption-algorithm" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["encrypt", "--key-id", "K", "--plaintext", "\udcff\udcfe"],
        ["encrypt", "--key-id", "K", "--plaintext", "x", "--encryption-context", "a=\udcff"],
        ["create-key", "--description", "\udcff"],
        ["tag-resource", "--key-id", "K", "--tag", "a=\udcff"],
    ],
)
def test_bytes_on_the_command_line_that_are_not_utf8_are_bad_input(kms, args):
    # Python hands such argv bytes over as lone surrogates; encoding them failed as an
    # "internal error" (exit 5) instead of a usage error.
    key = create_key(kms)
    before = kms("list-keys").json()
    r = kms(*[key if a == "K" else a for a in args])
    line = assert_error(r, 2, "ValidationException")
    assert "UTF-8" in line
    assert kms("list-keys").json() == before
    assert kms("list-resource-tags", "--key-id", key).json()["Tags"] == []


def test_a_path_that_is_not_utf8_still_works(kms, tmp_path):
    import os

    key = create_key(kms)
    directory = os.fsdecode(os.fsencode(str(tmp_path)) + b"/\xff")
    os.mkdir(directory)
    out = directory + "/c.bin"
    r = kms("encrypt", "--key-id", key, "--plaintext", "x", "--out", out)
    assert r.status == 0, r.stderr
    assert kms("decrypt", "--in", out).json()["Plaintext"] == "eA=="


def test_a_repeated_key_id_hint_names_the_one_that_was_used(kms):
    first, second = create_key(kms), create_key(kms, "HMAC_256")
    r = kms("encrypt", "--key-id", first, "--key-id", second, "--plaintext", "x")
    assert_error(r, 3, "InvalidKeyUsageException")
    assert r.stderr.splitlines()[1].endswith(f"--key-id {second}")


@pytest.mark.parametrize("args", [[], ["--output", "text"]])
def test_no_command_is_one_error_line_and_a_hint(kms, args):
    r = kms(*args)
    line = assert_error(r, 2, "ValidationException")
    assert "Usage:" not in line and len(line) < 100  # not the whole help on one line
    assert r.stderr.splitlines()[1].endswith("kmscli --help")


def test_offline_public_key_refusals_do_not_hint_at_a_keyring_command(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_P256")
    pem = tmp_path / "pub.pem"
    assert kms("get-public-key", "--key-id", key, "--out", pem).status == 0
    sig = tmp_path / "sig"
    kms("sign", "--key-id", key, "--message", "hi", "--signing-algorithm", "ECDSA_SHA_256", "--out", sig)
    for args in (
        ["verify", "--public-key", pem, "--message", "hi", "--signature-file", sig, "--signing-algorithm", "RSASSA_PSS_SHA_256"],
        ["encrypt-file", "--public-key", pem, "--in", sig, "--out", tmp_path / "x.enc"],
    ):
        r = kms(*args)
        assert_error(r, 3, "InvalidKeyUsageException")
        hint = r.stderr.splitlines()[1]
        assert "--key-id KEY" not in hint and "--public-key" in hint
