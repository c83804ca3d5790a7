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


# Modules that came off the hot path (issue 16: encrypt, decrypt and sign with a session,
# list-keys and --version, each within 1.2x, resp. 1.1x, of its floor in bench/startup.sh).
# Each cost measurable start-up; none is needed by these commands. Checked by module set,
# which is exact, not by time, which a loaded machine blurs.
LEAN = (
    "ctypes",  # the core-dump guard calls prctl through cffi's backend (cli/hardening.py)
    "dataclasses",  # the operations table is named tuples
    "base64",  # binascii does what kmscli asked of it
    "struct",
    "copy",  # writers only
    "fcntl",  # the writer lock
    "locale",  # gettext's catalogue lookups for click's messages (kmscli/__main__.py)
    "bcrypt",  # with cryptography's serialization package: private keys load without it
    "cryptography.hazmat.primitives.serialization",
    "tomli_w",
    "tomllib",  # keyring files are read by keyring/plain_toml.py; tomllib only for other text
    "jmespath",
    "rich",
    "kmscli.keyring.lock",
    "kmscli.cli.stream_io",  # --in, --out and files only
    "kmscli.service.file_signing",
)
SYMMETRIC_EXTRA = (
    "kmscli.crypto.asymmetric",
    "cryptography.hazmat.primitives.asymmetric",
    "cryptography.hazmat.primitives.kdf.scrypt",  # a session never derives from the passphrase
    "kmscli.keyring.index",  # a key file is read by its id
    "kmscli.service.paging",
    "kmscli.cli.passphrase",  # the session unlocked: no passphrase source is asked
    "hashlib",
)


def _imports_any(names: set[str], module: str) -> bool:
    return any(n == module or n.startswith(module + ".") for n in names)


@pytest.fixture(scope="module")
def session_keys(tmp_path_factory):
    """A keyring with a symmetric and an ECC signing key, and a ciphertext; the session is
    started by each test (its runtime directory is the test's)."""
    from conftest import make_keyring, run_in_process

    env = make_keyring(tmp_path_factory.mktemp("hot") / "keyring")
    kms = lambda *a: run_in_process(a, env=env)  # noqa: E731
    key = create_key(kms)
    ecc = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    blob = kms("encrypt", "--key-id", key, "--plaintext", "x", "--query", "CiphertextBlob", "--output", "text").out.strip()
    return env, key, ecc, blob


def _in_session(env) -> dict:
    from conftest import caller
    from test_sessions import NO_PASSPHRASE, unlock

    return {**env, **NO_PASSPHRASE, "KMSCLI_SESSION": unlock(caller(env))}


@pytest.mark.parametrize("command", ["encrypt", "decrypt", "sign"])
def test_a_command_in_a_session_imports_nothing_it_does_not_use(command, session_keys):
    env, key, ecc, blob = session_keys
    args = {
        "encrypt": ["encrypt", "--key-id", key, "--plaintext", "hello"],
        "decrypt": ["decrypt", "--ciphertext-blob", blob],
        "sign": ["sign", "--key-id", ecc, "--message", "hello", "--signing-algorithm", "ECDSA_SHA_256"],
    }[command]
    names = imported_modules(args, _in_session(env))
    assert "kmscli.keyring.session" in names  # the session really opened the keyring
    in_session = ("kmscli.keyring.index", "kmscli.service.paging", "kmscli.cli.passphrase",
                  "cryptography.hazmat.primitives.kdf.scrypt")
    forbidden = LEAN + (SYMMETRIC_EXTRA if command != "sign" else in_session)
    found = [m for m in forbidden if _imports_any(names, m)]
    assert not found, f"{command} imports {found}"


def test_list_keys_and_version_stay_lean(populated):
    for args in (["list-keys"], ["--version"]):
        names = imported_modules(args, populated)
        found = [m for m in LEAN + ("kmscli.cli.passphrase",) if _imports_any(names, m)]
        assert not found, f"{args} imports {found}"


def test_the_core_dump_guard_takes_prctl_from_cffis_backend():
    """The fast way must work here, or every unlock would silently fall back to ctypes."""
    from kmscli.cli import hardening

    prctl = hardening._prctl_via_cffi()
    PR_GET_DUMPABLE = 3
    assert prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) in (0, 1)


def test_the_private_key_loader_is_cryptographys_public_one():
    from cryptography.hazmat.primitives import serialization

    from kmscli.crypto import asymmetric

    assert asymmetric._der_private_key_loader() is serialization.load_der_private_key
    for name in ("load_der_private_key", "load_der_public_key", "load_pem_public_key"):
        assert asymmetric._key_loader(name) is getattr(serialization, name)


def test_a_listing_reads_only_the_index_buckets_that_exist(populated, monkeypatch):
    """list-keys on a few keys looks at their buckets, after a few empty ones (then it lists
    the buckets that exist), not at all 4,096 (each a stat)."""
    import os as os_module
    from pathlib import Path

    from kmscli.keyring import Keyring

    keyring = Keyring.open(Path(populated["KMSCLI_KEYRING"]))
    assert keyring.index.present()
    bucket_dir = str(keyring.index.dir / "keys")
    looked_at = []
    real_stat = os_module.stat

    def counting_stat(path, *args, **kwargs):
        if str(path).startswith(bucket_dir + os_module.sep):
            looked_at.append(str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os_module, "stat", counting_stat)
    ids = keyring.key_ids_from("", 100)
    assert len(ids) == 3
    from kmscli.keyring.index import PROBES_BEFORE_LISTING

    assert len(looked_at) <= PROBES_BEFORE_LISTING + 3, looked_at


def test_the_console_script_resumes_the_gc_and_leaves_no_trace_in_the_api(populated):
    """run() pauses the cyclic GC for start-up only: the command itself runs with it."""
    import subprocess
    import sys

    from conftest import ROOT

    probe = (
        "import atexit, gc, sys\n"
        "from kmscli.cli import main as m\n"
        "real = m.main\n"
        "def main(argv=None):\n"
        "    status = real(argv)\n"
        "    print('gc enabled once the command ran:', gc.isenabled(), file=sys.stderr)\n"
        "    return status\n"
        "m.main = main\n"
        "sys.argv = ['kmscli', 'list-keys']\n"
        "from kmscli.__main__ import run\n"
        "run()\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, **populated, "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode == 0, r.stderr
    assert "gc enabled once the command ran: True" in r.stderr


def test_the_python_api_leaves_gc_and_gettext_alone(populated):
    import gc
    import gettext

    from conftest import run_in_process

    before = gettext.dgettext
    assert run_in_process(["list-keys"], env=populated).status == 0
    assert gettext.dgettext is before
    assert gc.isenabled()


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


# --- ECDSA without cryptography's OpenSSL backend module ---------------------------------


def test_the_fast_ecdsa_is_cryptographys_ecdsa_with_the_same_properties():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    from kmscli.crypto import asymmetric

    for hash_ in (hashes.SHA256(), hashes.SHA384(), utils.Prehashed(hashes.SHA512())):
        fast, public = asymmetric.ecdsa(hash_), ec.ECDSA(hash_)
        assert isinstance(fast, ec.ECDSA)
        assert type(fast) is not ec.ECDSA  # the fast way was taken here, not the fallback
        assert fast.algorithm is public.algorithm
        assert fast.deterministic_signing is public.deterministic_signing is False


def test_the_fast_ecdsa_falls_back_to_the_public_class_when_its_state_is_elsewhere(monkeypatch):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from kmscli.crypto import asymmetric

    class Elsewhere(ec.ECDSA):  # the fast class, on a release that keeps the state under other names
        def __init__(self, algorithm):
            self._algorithm = algorithm
            self._deterministic_signing = False

        algorithm = property(lambda self: self._hash)

    monkeypatch.setattr(asymmetric, "_ECDSA_CLASS", Elsewhere)
    hash_ = hashes.SHA256()
    chosen = asymmetric.ecdsa(hash_)
    assert type(chosen) is ec.ECDSA
    assert chosen.algorithm is hash_


def test_an_ecdsa_signing_imports_no_openssl_backend_module_and_openssl_verifies_it(session_keys, tmp_path):
    import subprocess

    env, _, ecc, _ = session_keys
    env = _in_session(env)
    args = ["sign", "--key-id", ecc, "--message", "hello", "--signing-algorithm", "ECDSA_SHA_256"]
    names = imported_modules(args, env)
    assert "cryptography.hazmat.primitives.asymmetric.ec" in names  # it was an ECDSA signature
    assert not _imports_any(names, "cryptography.hazmat.backends")
    signature = run_process([*args, "--query", "Signature", "--output", "text"], env=env)
    assert signature.status == 0, signature.stderr
    pem = tmp_path / "public.pem"
    assert run_process(["get-public-key", "--key-id", ecc, "--out", str(pem)], env=env).status == 0
    (tmp_path / "message").write_bytes(b"hello")
    import base64

    (tmp_path / "sig").write_bytes(base64.b64decode(signature.out.strip()))
    checked = subprocess.run(
        ["openssl", "dgst", "-sha256", "-verify", pem, "-signature", tmp_path / "sig", tmp_path / "message"],
        capture_output=True, timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    # and kmscli's own verify (the same fast class) agrees, without the backend module either
    verify = ["verify", "--key-id", ecc, "--message", "hello", "--signing-algorithm", "ECDSA_SHA_256",
              "--signature", signature.out.strip()]
    names = imported_modules(verify, env)
    assert not _imports_any(names, "cryptography.hazmat.backends")
    assert not _imports_any(names, "cryptography.hazmat.primitives.serialization")
