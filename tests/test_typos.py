"""Typos forgiven: every "did you mean" kmscli gives, for commands, options, keys and stdin.

Each error keeps its contract (one `kmscli: error:` line, exit status 2 or 3, nothing on
standard output); the suggestion is in the message or on a `kmscli: hint:` line."""

from __future__ import annotations

import sys

import click
import pytest

from conftest import create_key, run_in_process, run_process

from kmscli.cli.main import cli


def error_lines(result) -> tuple[str, str | None]:
    assert result.stdout == b""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("kmscli: error: ")
    hints = [line for line in lines[1:] if line.startswith("kmscli: hint: ")]
    assert len(lines) == 1 + len(hints) <= 2, result.stderr
    return lines[0], hints[0] if hints else None


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("encrpyt", "encrypt"),
        ("dcrypt", "decrypt"),
        ("list-key", "list-keys"),
        ("list-alias", "list-aliases"),
        ("create-keys", "create-key"),
        ("sing", "sign"),
        ("verfy", "verify"),
        ("describe", "describe-key"),
        ("version", "--version"),
        ("help", "--help"),
    ],
)
def test_a_mistyped_command_gets_the_one_it_was_meant_to_be(typed, meant):
    result = run_in_process([typed])
    assert result.status == 2
    error, hint = error_lines(result)
    assert error == f"kmscli: error: ValidationException: No such command '{typed}'. Did you mean '{meant}'?"
    assert hint == "kmscli: hint: run: kmscli --help"


def test_a_word_like_no_command_gets_no_suggestion():
    error, _ = error_lines(run_in_process(["xyzzy"]))
    assert error == "kmscli: error: ValidationException: No such command 'xyzzy'."


@pytest.mark.parametrize(
    "args, meant",
    [
        (["encrypt", "--keyid", "K"], "'--key-id'"),
        (["encrypt", "--plaintxt", "x"], "'--plaintext'"),
        (["encrypt", "--encryption-contxt", "a=b"], "'--encryption-context'"),
        # a global option, typed after the command name
        (["encrypt", "--outptu", "json"], "'--output'"),
        (["list-keys", "--debg"], "'--debug'"),
        (["describe-key", "--keyrign", "/tmp"], "'--keyring'"),
        # the endpoint mode's globals (issue 14): --profil no longer meets --passphrase-file
        (["list-keys", "--profil", "dev"], "'--profile'"),
        (["list-keys", "--endpoint-ulr", "aws"], "'--endpoint-url'"),
        # a global option, typed before it
        (["--qurey", "x", "list-keys"], "'--query'"),
        (["--verison"], "'--version'"),
    ],
)
def test_a_mistyped_option_gets_the_commands_or_the_global_option(args, meant):
    result = run_in_process(args)
    assert result.status == 2
    error, _ = error_lines(result)
    assert error.endswith(f"Did you mean {meant}?"), error


def test_option_suggestions_come_from_the_groups_actual_options(monkeypatch):
    """A global option added to the top-level group is suggested after any command name,
    with no list to keep in step: the suggestions read the group itself."""
    monkeypatch.setattr(cli, "params", [*cli.params, click.Option(["--frobnicate-level"], expose_value=False)])
    error, _ = error_lines(run_in_process(["list-keys", "--frobnicate-levle", "3"]))
    assert error.endswith("Did you mean '--frobnicate-level'?"), error


@pytest.mark.parametrize("option", ["--no-paginate", "--no-cli-pager", "--no-sign-request"])
def test_an_aws_cli_option_kmscli_lacks_is_named_as_such_not_matched_to_another(option):
    result = run_in_process(["list-keys", option])
    assert result.status == 2
    error, hint = error_lines(result)
    assert error == (
        f"kmscli: error: ValidationException: No such option '{option}': "
        "it is an aws-cli option that kmscli does not have."
    )
    assert "Did you mean" not in error and hint is not None


def test_the_aws_cli_table_never_shadows_a_real_kmscli_option(monkeypatch):
    """Once kmscli has an option of aws-cli's (as it has --output and --debug), it is a
    real option: never reported as missing, and suggested for its typos."""
    from kmscli.cli import suggest

    assert "--no-paginate" in suggest.AWS_CLI_GLOBALS
    monkeypatch.setattr(cli, "params", [*cli.params, click.Option(["--no-paginate"], is_flag=True, expose_value=False)])
    error, _ = error_lines(run_in_process(["--no-paginat", "list-keys"]))
    assert error.endswith("Did you mean '--no-paginate'?"), error
    assert "aws-cli" not in error


def test_a_command_option_typed_before_the_command_name_says_where_it_goes():
    result = run_in_process(["--key-id", "K", "encrypt", "--plaintext", "x"])
    assert result.status == 2
    _, hint = error_lines(result)
    assert hint == "kmscli: hint: --key-id is an option of encrypt: put it after the command name"


def test_a_key_name_without_alias_prefix_suggests_the_alias(kms):
    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/first", "--target-key-id", key).status == 0
    for command in (["encrypt", "--plaintext", "hi"], ["describe-key"]):
        result = kms(*command, "--key-id", "first")
        assert result.status == 3
        error, hint = error_lines(result)
        assert error == "kmscli: error: NotFoundException: Invalid keyId 'first'"  # AWS's words
        assert hint == "kmscli: hint: did you mean alias/first? (an alias in this keyring)"
    # a mistyped alias name too
    _, hint = error_lines(kms("describe-key", "--key-id", "alias/frist"))
    assert hint == "kmscli: hint: did you mean alias/first? (an alias in this keyring)"
    # and nothing is invented when no alias is close
    _, hint = error_lines(kms("describe-key", "--key-id", "second"))
    assert hint == "kmscli: hint: list the keys with: kmscli list-keys"
    _, hint = error_lines(kms("describe-key", "--key-id", "alias/zzz"))
    assert hint == "kmscli: hint: list the aliases with: kmscli list-aliases"


def test_an_alias_of_another_keyring_is_never_suggested(kms, tmp_path):
    from conftest import make_keyring

    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/first", "--target-key-id", key).status == 0
    other = make_keyring(tmp_path / "other")
    _, hint = error_lines(run_in_process(["describe-key", "--key-id", "first"], env=other))
    assert hint == "kmscli: hint: list the keys with: kmscli list-keys"


def test_the_alias_hint_is_looked_for_only_when_the_cli_shows_it(kms, monkeypatch):
    """Finding the alias that was meant reads alias buckets: the service (the Python API, and
    `kmscli serve`, whose AWS errors carry no hints) raises the error without it; the CLI's
    error line reads the hint, and only then is the alias looked for."""
    import botocore.exceptions
    from serve_util import open_keyring, serve_in_thread

    from kmscli.errors import NotFoundException
    from kmscli.keyring import Keyring
    from kmscli.service import operations

    key = create_key(kms)
    assert kms("create-alias", "--alias-name", "alias/first", "--target-key-id", key).status == 0
    reads = []

    def counted(name):
        real = getattr(Keyring, name)

        def read(self, *args, **kwargs):
            reads.append(name)
            return real(self, *args, **kwargs)

        return read

    for name in ("load_alias", "load_aliases"):
        monkeypatch.setattr(Keyring, name, counted(name))
    keyring_path = kms.env["KMSCLI_KEYRING"]

    keyring = open_keyring(keyring_path)
    with pytest.raises(NotFoundException) as raised:
        operations.invoke(keyring, "DescribeKey", {"KeyId": "first"})
    assert reads == []
    assert raised.value.hint == "did you mean alias/first? (an alias in this keyring)"
    assert reads == ["load_alias"]  # read when asked for, and once: the answer is kept
    assert raised.value.hint.startswith("did you mean") and reads == ["load_alias"]

    with serve_in_thread(keyring_path) as endpoint:
        client = endpoint.client()
        for typed, bucket_reads in (("first", []), ("alias/frist", ["load_alias"])):  # the lookup's own bucket
            reads.clear()
            with pytest.raises(botocore.exceptions.ClientError) as refused:
                client.describe_key(KeyId=typed)
            assert refused.value.response["Error"]["Code"] == "NotFoundException"
            assert reads == bucket_reads, typed

    reads.clear()
    _, hint = error_lines(kms("describe-key", "--key-id", "alias/frist"))
    assert hint == "kmscli: hint: did you mean alias/first? (an alias in this keyring)"
    assert "load_aliases" in reads


@pytest.mark.parametrize(
    "args, option",
    [
        (["encrypt", "--key-id", "K"], "--in"),
        (["decrypt"], "--in"),
        (["sign", "--key-id", "K", "--signing-algorithm", "ECDSA_SHA_256"], "--in"),
        (["generate-mac", "--key-id", "K", "--mac-algorithm", "HMAC_SHA_256"], "--in"),
        (["encrypt-file", "--key-id", "K", "--out", "x"], "--in"),
    ],
)
def test_data_piped_without_in_suggests_reading_standard_input(args, option, kms_proc):
    """`echo hi | kmscli encrypt --key-id K`: a real process, standard input a pipe."""
    result = kms_proc(*args, input=b"hi\n")
    assert result.status == 2
    _, hint = error_lines(result)
    assert hint == f"kmscli: hint: standard input is not a terminal: to read the data from it, add {option} -"


def test_no_stdin_hint_when_standard_input_carries_nothing(keyring_env):
    """Standard input at /dev/null (cron, CI) is not data meant for the command."""
    import subprocess

    from conftest import ROOT

    env = {**__import__("os").environ, **keyring_env, "PYTHONPATH": str(ROOT)}
    p = subprocess.run(
        [sys.executable, "-m", "kmscli", "encrypt", "--key-id", "K"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60,
    )
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        "kmscli: error: ValidationException: give exactly one of --plaintext and --in",
        "kmscli: hint: run: kmscli encrypt --help",
    ]


def test_suggestions_load_only_on_the_way_to_an_error():
    """difflib and the suggestion module are imported by a failing command only."""
    import os
    import subprocess

    from conftest import ROOT

    code = (
        "import contextlib, io, sys\n"
        "from kmscli.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])\n"
        "assert 'difflib' not in sys.modules and 'kmscli.cli.suggest' not in sys.modules\n"
        "with contextlib.redirect_stderr(io.StringIO()): main(['encrpyt'])\n"
        "assert 'kmscli.cli.suggest' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr


def test_a_global_option_only_the_group_takes_says_to_put_it_first(monkeypatch):
    monkeypatch.setattr(cli, "params", [*cli.params, click.Option(["--frobnicate"], is_flag=True, expose_value=False)])
    # before the command name it parses (the run fails further on: there is no keyring)
    assert "KeyringNotFoundException" in run_in_process(["--frobnicate", "list-keys", "--keyring", "/nonexistent"]).stderr
    _, hint = error_lines(run_in_process(["list-keys", "--frobnicate"]))
    assert hint == "kmscli: hint: --frobnicate is a global option: put it before the command name"


def test_piped_data_for_the_message_gets_no_stdin_hint_for_the_signature(kms_proc):
    """verify --in - reads the message from standard input: the missing signature's hint
    must not send the user to standard input a second time."""
    result = kms_proc("verify", "--key-id", "K", "--signing-algorithm", "ECDSA_SHA_256", "--in", "-", input=b"hi")
    assert result.status == 2
    error, hint = error_lines(result)
    assert "--signature" in error
    assert hint is None or "standard input" not in hint


def test_piped_data_without_the_signature_suggests_its_file_option(kms_proc):
    result = kms_proc("verify", "--key-id", "K", "--signing-algorithm", "ECDSA_SHA_256", "--message", "hi", input=b"sig")
    assert result.status == 2
    _, hint = error_lines(result)
    assert hint == "kmscli: hint: standard input is not a terminal: to read the data from it, add --signature-file -"
