"""Start-up: commands import only what they use (kmscli runs in shell loops).

`python -X importtime` lists every module a real process imports; the heavy ones (rich, the
RSA and ECC families, scrypt, tomli_w) must not be among them for --version and list-keys.
The timing itself is measured by bench/startup.sh, not here: a loaded CI machine would make
a timing assertion flaky, while the import list is exact."""

from __future__ import annotations

import re

import pytest

from conftest import create_key, run_process

HEAVY = (
    "rich",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.asymmetric.ec",
    "cryptography.hazmat.primitives.kdf.scrypt",
    "tomli_w",
    "jmespath",
)


def imported_modules(args, env) -> set[str]:
    result = run_process(args, env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
    assert result.status == 0, result.stderr
    names = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", result.stderr, re.M))
    assert "click" in names  # the listing was really read
    return names


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A keyring holding a symmetric, an RSA and an ECC key (so list-keys has them to show)."""
    from conftest import make_keyring, run_in_process

    env = make_keyring(tmp_path_factory.mktemp("startup") / "keyring")
    kms = lambda *a: run_in_process(a, env=env)  # noqa: E731
    create_key(kms)
    create_key(kms, "RSA_2048", "ENCRYPT_DECRYPT")
    create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    return env


@pytest.mark.parametrize("args", [["--version"], ["list-keys"], ["describe-key", "--help"]])
def test_heavy_modules_are_not_imported(args, populated):
    names = imported_modules(args, populated)
    for heavy in HEAVY:
        assert not {n for n in names if n == heavy or n.startswith(heavy + ".")}, f"{args} imports {heavy}"


def test_version_imports_no_keyring_and_no_crypto(populated):
    names = imported_modules(["--version"], populated)
    assert "kmscli.keyring.store" not in names
    assert not {n for n in names if n.startswith("cryptography")}


def test_list_keys_needs_no_asymmetric_code_nor_hashlib(populated):
    names = imported_modules(["list-keys"], populated)
    assert "kmscli.service.keys" in names
    assert "kmscli.crypto.asymmetric" not in names
    assert "hashlib" not in names  # the integrity HMAC is for unlocked commands only


def test_list_keys_without_a_passphrase_still_lists_every_key(populated):
    env = {**populated, "KMSCLI_PASSPHRASE": None}
    result = run_process(["list-keys"], env=env)
    assert result.status == 0, result.stderr
    assert result.stderr == ""
    assert len(result.json()["Keys"]) == 3


def test_table_output_is_where_rich_comes_in(populated):
    names = imported_modules(["list-keys", "--output", "table"], populated)
    assert "rich" in names  # the one command path that draws


def test_integrity_tags_are_the_stdlib_hmac_sha256_of_before(tmp_path):
    """The integrity HMAC moved from the stdlib to crypto.mac for start-up time: the bytes
    must be what existing keyrings carry, or they would all read as damaged."""
    import hmac

    from conftest import PASSPHRASE, make_keyring
    from kmscli.keyring import Keyring
    from kmscli.keyring import format as fmt

    make_keyring(tmp_path / "keyring")
    keyring = Keyring.open(tmp_path / "keyring", unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    doc = {"format": "x", "version": 1, "aliases": {"alias/a": {"TargetKeyId": "k"}}}
    expected = fmt.b64e(hmac.new(keyring._integrity_key(), fmt.canonical(doc), "sha256").digest())
    assert keyring._integrity_tag(doc) == expected
    keyring.verify_document({**doc, "integrity": expected}, "doc")  # accepted
    with pytest.raises(Exception, match="integrity check failed"):
        keyring.verify_document({**doc, "integrity": expected[:-4] + "AAA="}, "doc")
    with pytest.raises(Exception, match="integrity check failed"):
        keyring.verify_document({**doc, "integrity": "not base64!"}, "doc")
