"""Tab completion: commands, options, choices, and key ids / aliases from the keyring.

Completion runs as click's protocol does in real use: kmscli is called back with
_KMSCLI_COMPLETE=<shell>_complete, COMP_WORDS and COMP_CWORD, in a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import PASSPHRASE, ROOT, create_key, make_keyring, run_in_process, run_process

from kmscli.cli.main import cli
from kmscli.cli.options import complete_access_key_ids, complete_key_ids
from kmscli.keyring import Keyring


def complete(words: str, *, shell: str = "bash", env: dict | None = None):
    """Ask kmscli for the candidates of the last word of ``words`` (empty when it ends in a space)."""
    parts = words.split()
    cword = len(parts) if words.endswith(" ") else len(parts) - 1
    base = {"_KMSCLI_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    return run_process([], env={**base, **(env or {})})


def values(result) -> list[str]:
    """The values of bash_complete output lines "type,value"."""
    assert result.status == 0, result.stderr
    assert result.stderr == ""
    return [line.split(",", 1)[1] for line in result.out.splitlines() if line.startswith("plain,")]


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    """A keyring with two keys and two aliases; its environment has no passphrase."""
    path = tmp_path_factory.mktemp("completion") / "keyring"
    env = make_keyring(path)
    kms = lambda *a: run_in_process(a, env=env)  # noqa: E731
    first = create_key(kms, "SYMMETRIC_DEFAULT", None, "--description", "backups")
    second = create_key(kms, "HMAC_256")
    keyring = Keyring.open(path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    # Written through the store (not a command) so this test does not depend on create-alias.
    keyring.save_aliases(
        {
            "alias/backups": {"TargetKeyId": first, "CreationDate": "2024-01-01T00:00:00+00:00"},
            "alias/tokens": {"TargetKeyId": second, "CreationDate": "2024-01-01T00:00:00+00:00"},
        }
    )
    return {"path": path, "keys": sorted([first, second]), "first": first, "second": second}


def test_key_id_completes_key_ids_and_aliases_without_a_passphrase(ring):
    got = values(complete("kmscli describe-key --key-id ", env={"KMSCLI_KEYRING": str(ring["path"])}))
    assert got == ["alias/backups", "alias/tokens", *ring["keys"]]
    # encrypt offers only the key that can encrypt (not the HMAC key), and its alias
    got = values(complete("kmscli encrypt --key-id ", env={"KMSCLI_KEYRING": str(ring["path"])}))
    assert got == ["alias/backups", ring["first"]]


def test_key_id_completion_filters_by_what_is_typed(ring):
    env = {"KMSCLI_KEYRING": str(ring["path"])}
    assert values(complete("kmscli describe-key --key-id alias/t", env=env)) == ["alias/tokens"]
    prefix = ring["first"][:6]
    assert values(complete(f"kmscli enable-key --key-id {prefix}", env=env)) == [
        k for k in ring["keys"] if k.startswith(prefix)
    ]


def test_key_id_completion_follows_the_keyring_option_before_or_after_the_command(ring, tmp_path):
    other = tmp_path / "other"
    make_keyring(other)  # empty: completing against it offers nothing
    env = {"KMSCLI_KEYRING": str(other)}
    assert values(complete("kmscli encrypt --key-id ", env=env)) == []
    assert values(complete(f"kmscli --keyring {ring['path']} encrypt --key-id ", env=env))[:1] == ["alias/backups"]
    assert values(complete(f"kmscli encrypt --keyring {ring['path']} --key-id ", env=env))[:1] == ["alias/backups"]


def test_key_id_completion_expands_a_tilde_as_the_shell_will(ring, tmp_path):
    home = ring["path"].parent
    got = values(complete("kmscli --keyring ~/keyring describe-key --key-id alias/", env={"HOME": str(home)}))
    assert got == ["alias/backups", "alias/tokens"]


def test_zsh_and_fish_completion_describe_each_key(ring):
    env = {"KMSCLI_KEYRING": str(ring["path"])}
    zsh = complete("kmscli describe-key --key-id ", shell="zsh", env=env)
    assert zsh.status == 0 and zsh.stderr == ""
    lines = zsh.out.splitlines()
    assert lines[lines.index(ring["first"]) + 1] == "SYMMETRIC_DEFAULT Enabled backups"
    assert lines[lines.index("alias/tokens") + 1] == f"alias of {ring['second']}"
    # fish passes the partial word itself as COMP_CWORD, not its index.
    fish = run_process(
        [],
        env={**env, "_KMSCLI_COMPLETE": "fish_complete", "COMP_WORDS": "kmscli describe-key --key-id ", "COMP_CWORD": ""},
    )
    assert fish.status == 0 and fish.stderr == ""
    assert f"plain,{ring['first']}\tSYMMETRIC_DEFAULT Enabled backups" in fish.out.splitlines()


@pytest.mark.parametrize(
    "words, expected",
    [
        ("kmscli create-key --key-spec ECC_NIST_P", ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"]),
        ("kmscli encrypt --encryption-algorithm RSAES", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]),
        ("kmscli generate-mac --mac-algorithm HMAC_SHA_5", ["HMAC_SHA_512"]),
        ("kmscli sign --signing-algorithm ECDSA", ["ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"]),
        ("kmscli create-key --key-usage SIGN", ["SIGN_VERIFY"]),
        ("kmscli --output t", ["text", "table"]),
        ("kmscli completion ", ["bash", "zsh", "fish"]),
        ("kmscli list-k", ["list-key-policies", "list-key-rotations", "list-keys"]),
    ],
)
def test_choices_and_commands_complete(words, expected):
    assert values(complete(words)) == expected


def test_options_complete_and_hidden_globals_stay_out_of_the_way():
    got = values(complete("kmscli encrypt --"))
    assert "--key-id" in got and "--encryption-context" in got
    assert "--debug" not in got  # the hidden per-command copies of the global options


@pytest.mark.parametrize(
    "words, expected",
    [
        ("kmscli encrypt --ou", ["--out", "--output"]),
        ("kmscli describe-key --o", ["--output"]),
        ("kmscli list-keys --q", ["--query"]),
        ("kmscli sign --k", ["--key-id", "--keyring"]),
        ("kmscli decrypt --cli", ["--cli-binary-format", "--cli-connect-timeout", "--cli-read-timeout"]),
        # a global option already given after the command name is not offered again
        ("kmscli encrypt --output json --ou", ["--out"]),
    ],
)
def test_global_options_complete_after_the_command_name(words, expected):
    assert values(complete(words)) == expected


def test_global_options_after_the_command_name_come_from_the_group(monkeypatch):
    """Whatever global options the group has: each one the command takes after its name
    completes there, with the group's help (zsh and fish show it)."""
    ctx = click.Context(cli, info_name="kmscli")
    command = cli.get_command(ctx, "encrypt")
    sub = click.Context(command, info_name="encrypt", parent=ctx)
    items = command.shell_complete(sub, "--ou")
    helps = {item.value: item.help for item in items}
    assert helps["--output"] == next(p.help for p in cli.params if "--output" in p.opts)
    assert "--out" in helps


@pytest.mark.parametrize(
    "setup",
    ["missing", "not-a-keyring", "damaged-key", "unreadable-keys"],
)
def test_completion_never_prompts_prints_errors_or_fails(setup, tmp_path):
    path = tmp_path / "keyring"
    if setup != "missing":
        make_keyring(path)
    if setup == "not-a-keyring":
        (path / "keyring.toml").write_text("this is [not toml")
    if setup == "damaged-key":
        (path / "keys" / "00000000-0000-4000-8000-000000000000.toml").write_text("garbage = [")
    if setup == "unreadable-keys":
        (path / "keys").chmod(0o000)
    try:
        # No passphrase anywhere, and stdin is closed: a prompt or unlock would show.
        result = complete("kmscli encrypt --key-id ", env={"KMSCLI_KEYRING": str(path), "KMSCLI_PASSPHRASE": None})
    finally:
        if setup == "unreadable-keys":
            (path / "keys").chmod(0o700)
    assert result.status == 0
    assert result.stderr == ""
    got = values(result)
    if setup == "damaged-key":
        assert got == ["00000000-0000-4000-8000-000000000000"]  # listed, without a summary
    else:
        assert got == []


def test_every_key_id_option_in_the_tree_completes_key_ids():
    """--key-id, --target-key-id, --source-key-id, --destination-key-id, ...: whatever
    commands exist, each such option must come from key_id_option (or use its completer)."""
    ctx = click.Context(cli, info_name="kmscli")
    checked = []
    for name in cli.list_commands(ctx):
        for param in cli.get_command(ctx, name).params:
            # --xks-key-id names a key in an external key manager, not a KMS key.
            if isinstance(param, click.Option) and any(o.endswith("key-id") and o != "--xks-key-id" for o in param.opts):
                checked.append(f"{name} {param.opts[0]}")
                expected = complete_access_key_ids if param.opts[0] == "--access-key-id" else complete_key_ids
                assert param._custom_shell_complete is expected, f"{name} {param.opts[0]}"
    assert "encrypt --key-id" in checked and "delete-access-key --access-key-id" in checked


def test_access_key_ids_complete_without_a_passphrase(tmp_path):
    from conftest import make_keyring, run_in_process

    env = make_keyring(tmp_path / "ring")
    akid = run_in_process(["create-access-key"], env=env).json()["AccessKey"]["AccessKeyId"]
    ctx = click.Context(cli, info_name="kmscli")
    ctx.params["keyring_path"] = env["KMSCLI_KEYRING"]
    param = next(p for p in cli.get_command(ctx, "delete-access-key").params if p.name == "access_key_id")
    assert [item.value for item in complete_access_key_ids(ctx, param, "AKIA")] == [akid]
    assert complete_access_key_ids(ctx, param, "nope") == []


def test_the_bash_script_completes_in_a_real_bash(ring, tmp_path):
    """Source the committed script in bash and press Tab (call the completion function)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "kmscli"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kmscli "$@"\n')
    wrapper.chmod(0o755)
    script = f"""
        source {ROOT / "completions" / "kmscli.bash"}
        COMP_WORDS=(kmscli describe-key --key-id alias/b)
        COMP_CWORD=3
        _kmscli_completion kmscli
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "KMSCLI_KEYRING": str(ring["path"]),
    }
    p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout.split() == ["alias/backups"]


@pytest.mark.parametrize("shell, file", [("bash", "kmscli.bash"), ("zsh", "_kmscli"), ("fish", "kmscli.fish")])
def test_completion_command_prints_the_committed_script(shell, file):
    result = run_in_process(["completion", shell])
    assert result.status == 0, result.stderr
    assert result.out == (ROOT / "completions" / file).read_text()
    assert "_KMSCLI_COMPLETE" in result.out


def test_completion_command_refuses_an_unknown_shell():
    result = run_in_process(["completion", "tcsh"])
    assert result.status == 2
    assert result.stdout == b""
    assert result.stderr.startswith("kmscli: error: ValidationException:")


# --- key candidates per command ---------------------------------------------------------------


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """One key of each kind a command might want, each with an alias named after it."""
    path = tmp_path_factory.mktemp("zoo") / "keyring"
    env = make_keyring(path)
    kms = lambda *a: run_in_process(a, env=env)  # noqa: E731
    keys = {
        "sym": create_key(kms),
        "sym-disabled": create_key(kms),
        "sym-deleting": create_key(kms),
        "rsa-enc": create_key(kms, "RSA_2048", "ENCRYPT_DECRYPT"),
        "rsa-sign": create_key(kms, "RSA_2048", "SIGN_VERIFY"),
        "ecc-sign": create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY"),
        "ecc-agree": create_key(kms, "ECC_NIST_P256", "KEY_AGREEMENT"),
        "hmac": create_key(kms, "HMAC_256"),
        "external": create_key(kms, "SYMMETRIC_DEFAULT", None, "--origin", "EXTERNAL"),
    }
    for name, key in keys.items():
        assert kms("create-alias", "--alias-name", f"alias/{name}", "--target-key-id", key).status == 0
    assert kms("disable-key", "--key-id", keys["sym-disabled"]).status == 0
    assert kms("schedule-key-deletion", "--key-id", keys["sym-deleting"], "--pending-window-in-days", "7").status == 0
    return {"env": {"KMSCLI_KEYRING": str(path)}, "keys": keys}


ALL = ["sym", "sym-disabled", "sym-deleting", "rsa-enc", "rsa-sign", "ecc-sign", "ecc-agree", "hmac", "external"]


@pytest.mark.parametrize(
    "command, expected",
    [
        ("encrypt --key-id", ["sym", "rsa-enc"]),
        ("decrypt --key-id", ["sym", "rsa-enc"]),
        ("re-encrypt --destination-key-id", ["sym", "rsa-enc"]),
        ("re-encrypt --source-key-id", ["sym", "rsa-enc"]),
        ("encrypt-file --key-id", ["sym", "rsa-enc"]),
        ("decrypt-file --key-id", ["sym", "rsa-enc"]),
        ("generate-data-key --key-id", ["sym"]),
        ("generate-data-key-without-plaintext --key-id", ["sym"]),
        ("generate-data-key-pair --key-id", ["sym"]),
        ("sign --key-id", ["rsa-sign", "ecc-sign"]),
        ("verify --key-id", ["rsa-sign", "ecc-sign"]),
        ("generate-mac --key-id", ["hmac"]),
        ("verify-mac --key-id", ["hmac"]),
        ("derive-shared-secret --key-id", ["ecc-agree"]),
        ("get-public-key --key-id", ["rsa-enc", "rsa-sign", "ecc-sign", "ecc-agree"]),
        ("import-key-material --key-id", ["external"]),
        ("get-parameters-for-import --key-id", ["external"]),
        # commands that manage a key, whatever it is for: every key
        ("describe-key --key-id", ALL),
        ("enable-key --key-id", ALL),
        ("cancel-key-deletion --key-id", ALL),
        ("tag-resource --key-id", ALL),
        ("create-alias --target-key-id", ALL),
    ],
)
def test_each_command_offers_the_keys_it_can_use_and_their_aliases(zoo, command, expected):
    got = values(complete(f"kmscli {command} ", env=zoo["env"]))
    keys = zoo["keys"]
    assert [v for v in got if v.startswith("alias/")] == sorted(f"alias/{name}" for name in expected)
    assert [v for v in got if not v.startswith("alias/")] == sorted(keys[name] for name in expected)


def test_a_typed_prefix_is_filtered_by_the_command_too(zoo):
    keys = zoo["keys"]
    assert values(complete("kmscli sign --key-id alias/", env=zoo["env"])) == ["alias/ecc-sign", "alias/rsa-sign"]
    assert values(complete("kmscli sign --key-id alias/s", env=zoo["env"])) == []
    key = keys["hmac"]
    assert values(complete(f"kmscli generate-mac --key-id {key[:6]}", env=zoo["env"])) == [key]
    assert values(complete(f"kmscli encrypt --key-id {key[:6]}", env=zoo["env"])) == [
        k for k in sorted(keys.values()) if k.startswith(key[:6]) and k in (keys["sym"], keys["rsa-enc"])
    ]


def test_the_filter_of_each_command_matches_what_the_command_accepts(zoo):
    """The filters are checked against the commands themselves: every key a command's
    completion offers, the command accepts (encrypt, sign, generate-mac, derive-shared-secret
    and generate-data-key run on each offered key), and each left out it refuses."""
    keys = zoo["keys"]
    env = {**zoo["env"], "KMSCLI_PASSPHRASE": PASSPHRASE}
    runs = {
        "encrypt": ["encrypt", "--plaintext", "x"],
        "sign": ["sign", "--message", "x", "--signing-algorithm", "ECDSA_SHA_256"],
        "generate-mac": ["generate-mac", "--message", "x", "--mac-algorithm", "HMAC_SHA_256"],
        "generate-data-key": ["generate-data-key", "--key-spec", "AES_256"],
    }
    for command, args in runs.items():
        offered = set(values(complete(f"kmscli {command} --key-id ", env=zoo["env"])))
        for name, key in keys.items():
            extra = []  # an RSA key is used with an RSA algorithm
            if name == "rsa-sign" and command == "sign":
                extra = ["--signing-algorithm", "RSASSA_PSS_SHA_256"]
            elif name == "rsa-enc" and command == "encrypt":
                extra = ["--encryption-algorithm", "RSAES_OAEP_SHA_256"]
            ok = run_in_process([*args, *extra, "--key-id", key], env=env).status == 0
            assert ok == (key in offered), (command, name)


def test_key_ids_are_not_completed_against_an_endpoint(ring):
    """No network at Tab time: with --endpoint-url (before or after the command) or
    KMSCLI_ENDPOINT_URL, the local keyring's keys are not offered (they are not the
    endpoint's) and the endpoint is not asked (docs/endpoints.md)."""
    env = {"KMSCLI_KEYRING": str(ring["path"])}
    assert values(complete("kmscli encrypt --key-id ", env=env))  # the keyring completes
    assert values(complete("kmscli --endpoint-url http://127.0.0.1:9 encrypt --key-id ", env=env)) == []
    assert values(complete("kmscli encrypt --endpoint-url aws --key-id ", env=env)) == []
    assert values(complete("kmscli encrypt --key-id ", env={**env, "KMSCLI_ENDPOINT_URL": "aws"})) == []
