"""Prompts that help, driven through a real pseudo-terminal (tests/terminal_util.py):
init checks before it asks, a mismatched confirmation asks again, a wrong passphrase typed
at the prompt gets a hint about the prompt, and a very weak passphrase a warning."""

from __future__ import annotations

import pytest

from conftest import PASSPHRASE, TEST_LOG2_N, make_keyring, run_in_process
from terminal_util import Terminal

from kmscli.cli.weak_passphrase import weakness

STRONG = "plum violin copper lantern 42"


def init_at_terminal(path):
    return Terminal(["init", "--scrypt-log2-n", TEST_LOG2_N], {"KMSCLI_KEYRING": str(path)})


def opens_with(path, secret: str) -> bool:
    env = {"KMSCLI_KEYRING": str(path), "KMSCLI_PASSPHRASE": secret}
    return run_in_process(["create-key"], env=env).status == 0


def test_init_on_an_existing_keyring_fails_before_asking(tmp_path):
    path = tmp_path / "keyring"
    make_keyring(path)
    before = (path / "keyring.toml").read_bytes()
    t = init_at_terminal(path)
    status, out, shown = t.finish()
    assert status == 3, shown
    assert "Passphrase" not in shown and "passphrase:" not in shown
    assert "kmscli: error: AlreadyExistsException: a keyring already exists at" in shown
    assert out == b""
    assert (path / "keyring.toml").read_bytes() == before


def test_a_mismatched_confirmation_asks_again(tmp_path):
    path = tmp_path / "keyring"
    t = init_at_terminal(path)
    t.expect("New passphrase: ")
    t.type(STRONG)
    t.expect("New passphrase (again): ")
    t.type(STRONG + "x")
    assert "the two passphrases differ; try again (2 more)" in t.expect("New passphrase: ")
    t.type(STRONG)
    t.expect("New passphrase (again): ")
    t.type(STRONG)
    status, out, shown = t.finish()
    assert status == 0, shown
    assert b'"KeyringId"' in out
    assert STRONG not in t.shown.decode()  # echo was off throughout
    assert opens_with(path, STRONG)


def test_an_empty_passphrase_asks_again(tmp_path):
    path = tmp_path / "keyring"
    t = init_at_terminal(path)
    t.expect("New passphrase: ")
    t.type("")
    assert "the passphrase is empty; type one" in t.expect("New passphrase: ")
    t.type(STRONG)
    t.expect("(again): ")
    t.type(STRONG)
    status, _, shown = t.finish()
    assert status == 0, shown
    assert opens_with(path, STRONG)


def test_three_mismatches_give_up_and_change_nothing(tmp_path):
    path = tmp_path / "keyring"
    t = init_at_terminal(path)
    for attempt in range(3):
        t.expect("New passphrase: ")
        t.type(STRONG)
        t.expect("(again): ")
        t.type(f"other {attempt} {STRONG}")
    status, out, shown = t.finish()
    assert status == 2, shown
    assert "kmscli: error: ValidationException: the two passphrases differ, 3 times: nothing was changed" in shown
    assert "New passphrase" not in shown  # not asked a fourth time
    assert out == b""
    assert not (path / "keyring.toml").exists()


def test_a_wrong_passphrase_typed_at_the_prompt_gets_a_hint_about_the_prompt(tmp_path):
    path = tmp_path / "keyring"
    make_keyring(path)
    t = Terminal(["create-key"], {"KMSCLI_KEYRING": str(path)})
    t.expect("Passphrase for ")
    t.type("not " + PASSPHRASE)
    status, out, shown = t.finish()
    assert status == 4, shown
    assert "kmscli: error: IncorrectPassphraseException: the passphrase is wrong" in shown
    hint = next(line for line in shown.splitlines() if line.startswith("kmscli: hint: "))
    assert "typed at the prompt" in hint
    assert "KMSCLI_PASSPHRASE" not in hint and "file" not in hint
    assert out == b""


def test_a_wrong_passphrase_from_the_environment_keeps_its_hint(tmp_path):
    env = make_keyring(tmp_path / "keyring")
    r = run_in_process(["create-key"], env={**env, "KMSCLI_PASSPHRASE": "wrong"})
    assert r.status == 4
    assert "kmscli: hint: check KMSCLI_PASSPHRASE, the passphrase file, or the session" in r.stderr


@pytest.mark.parametrize("weak", ["abc", "hunter2", "password1", "basketball", "12345678901"])
def test_a_very_weak_passphrase_is_warned_of_before_it_is_confirmed(tmp_path, weak):
    path = tmp_path / "keyring"
    t = init_at_terminal(path)
    t.expect("New passphrase: ")
    t.type(weak)
    shown = t.expect("New passphrase (again): ")
    assert "kmscli: warning: this passphrase is very weak: it is" in shown
    # what scrypt does for it (at this keyring's cost: N=2^10, r=8, 1 MiB) and cannot do
    assert "scrypt (N=2^10, r=8) makes every guess at it cost 1 MiB of memory" in shown
    assert "cannot save a passphrase that is short or common" in shown
    assert "kmscli: hint: choose a longer one" in shown
    t.type(weak)  # kept anyway: a warning, not a refusal
    status, _, rest = t.finish()
    assert status == 0, rest
    assert opens_with(path, weak)


def test_a_weak_passphrase_can_be_replaced_at_the_confirmation(tmp_path):
    path = tmp_path / "keyring"
    t = init_at_terminal(path)
    t.expect("New passphrase: ")
    t.type("abc")
    t.expect("(again): ")
    t.type("")  # anything else: asked again from the start
    t.expect("New passphrase: ")
    t.type(STRONG)
    shown = t.expect("(again): ")
    assert "weak" not in shown
    t.type(STRONG)
    status, _, rest = t.finish()
    assert status == 0, rest
    assert opens_with(path, STRONG)


def test_change_passphrase_at_the_terminal_warns_at_the_keyrings_cost_and_asks_again(tmp_path):
    path = tmp_path / "keyring"
    make_keyring(path)
    t = Terminal(["change-passphrase", "--scrypt-log2-n", "11"], {"KMSCLI_KEYRING": str(path)})
    t.expect("Passphrase for ")
    t.type(PASSPHRASE)
    t.expect("New passphrase: ")
    t.type("short")
    assert "N=2^11, r=8) makes every guess at it cost 2 MiB" in t.expect("(again): ")
    t.type("shorter")
    t.expect("New passphrase: ")
    t.type(STRONG)
    t.expect("(again): ")
    t.type(STRONG)
    status, out, shown = t.finish()
    assert status == 0, shown
    assert b'"ScryptLog2N": 11' in out
    assert opens_with(path, STRONG) and not opens_with(path, PASSPHRASE)


def test_a_passphrase_from_a_file_or_variable_is_not_judged(tmp_path):
    """Scripts and CI make throwaway keyrings: their passphrase channels get no warning."""
    r = run_in_process(
        ["init", "--scrypt-log2-n", TEST_LOG2_N], env={"KMSCLI_KEYRING": str(tmp_path / "k"), "KMSCLI_PASSPHRASE": "x"}
    )
    assert r.status == 0 and r.stderr == ""


@pytest.mark.parametrize(
    "secret, weak",
    [
        ("", True),
        ("1234567", True),  # short
        ("Password1", True),  # common, whatever the case
        ("qwertyuiop", True),
        ("abcdefghijk", True),  # 11 letters of one case
        ("ABCDEFGHIJK", True),
        ("12345678912", True),  # 11 digits
        ("abcdefghijkl", False),  # 12 letters
        ("Abcdefgh", False),  # two classes, 8 characters
        ("tr0ub4dor&3", False),
        (PASSPHRASE, False),
        ("éèàùçœæß", True),  # 8 lower-case letters of one case, not ASCII
    ],
)
def test_the_weak_passphrase_rule(secret, weak):
    assert (weakness(secret.encode()) is not None) is weak
