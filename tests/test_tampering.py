"""Tampering: every kind of keyring file, damaged or edited by hand, is refused as damaged
(exit 5) by every operation that relies on it; never a wrong plaintext, a signature from
the wrong key, or a crash. docs/security.md lists what is and is not promised."""

from __future__ import annotations

import random
import re
import tomllib

import pytest
import tomli_w
from hardening_util import Pristine, clone, damaged, ok, run, snapshot
from lifecycle_util import alias_file, name_in_bucket_of

SEED = 7  # the sampled bit positions are the same on every run, so a failure reproduces


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return Pristine(tmp_path_factory.mktemp("pristine") / "keyring")


def uses(p: Pristine, env: dict, key_id: str) -> list[list[str]]:
    """Commands that rely on key ``key_id``'s file (and the aliases and keyring files)."""
    if key_id in (p.sym, p.sym2):
        return [
            ["decrypt", "--ciphertext-blob", p.blob],
            ["encrypt", "--key-id", key_id, "--plaintext", "x"],
            ["tag-resource", "--key-id", key_id, "--tag", "k=v"],
            ["rotate-key-on-demand", "--key-id", key_id],
        ]
    if key_id in (p.ecc, p.ecc2):
        return [
            ["sign", "--key-id", key_id, "--message", p.message, "--signing-algorithm", "ECDSA_SHA_256"],
            [
                "verify", "--key-id", key_id, "--message", p.message,
                "--signing-algorithm", "ECDSA_SHA_256", "--signature", p.signature,
            ],
            ["get-public-key", "--key-id", key_id],
        ]
    return [
        ["generate-mac", "--key-id", key_id, "--message", p.message, "--mac-algorithm", "HMAC_SHA_256"],
        ["verify-mac", "--key-id", key_id, "--message", p.message, "--mac-algorithm", "HMAC_SHA_256", "--mac", p.mac],
    ]


def all_refused(env: dict, commands, path) -> None:
    before = snapshot(path)
    for command in commands:
        damaged(run(env, *command))
    assert snapshot(path) == before  # a refused command changed nothing


def flips(data: bytes, count: int) -> list[bytes]:
    rng = random.Random(SEED + len(data))
    out = []
    for _ in range(count):
        i, bit = rng.randrange(len(data)), rng.randrange(8)
        out.append(data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :])
    return out


def mutations(data: bytes) -> list[tuple[str, bytes]]:
    """Bit flips, truncations and appendages of a file's bytes."""
    out = [(f"flip#{n}", m) for n, m in enumerate(flips(data, 10))]
    out += [(f"truncate{n}", data[:n]) for n in (0, 1, len(data) // 2, len(data) - 2)]
    out += [
        ("append-nul", data + b"\x00"),
        ("append-key", data + b'\nextra = "x"\n'),
        ("append-table", data + b"\n[extra]\nx = 1\n"),
        ("append-garbage", data + bytes(range(256))),
    ]
    return out


def every_mutation_refused(pristine, tmp_path, name: str, what: str, commands) -> None:
    """Each of ``mutations`` of the file ``name`` (relative to the keyring), made in a fresh
    copy of the keyring, makes every command refuse and change nothing. ``commands`` may be
    a function of the copy's environment."""
    original = (pristine.path / name).read_bytes()
    for n, (mutation, data) in enumerate(mutations(original)):
        copy = tmp_path / f"m{n}"
        env = clone(pristine.path, copy)
        (copy / name).write_bytes(data)
        try:
            all_refused(env, commands(env) if callable(commands) else commands, copy)
        except AssertionError as e:
            raise AssertionError(f"mutation {mutation} of {what}: {e}") from None


def edit_toml(path, change) -> None:
    doc = tomllib.loads(path.read_text())
    change(doc)
    path.write_text(tomli_w.dumps(doc))


# --- key files --------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["sym", "ecc", "hmac"])
def test_key_file_mutations_are_refused(pristine, tmp_path, which):
    key_id = getattr(pristine, which)
    name = pristine.key_file(pristine.path, key_id).relative_to(pristine.path)
    every_mutation_refused(pristine, tmp_path, name, f"the {which} key file", lambda env: uses(pristine, env, key_id))


HAND_EDITS = {
    "KeySpec": lambda d: d["metadata"].update(KeySpec="HMAC_256"),
    "KeyUsage": lambda d: d["metadata"].update(KeyUsage="GENERATE_VERIFY_MAC"),
    "KeyState": lambda d: d["metadata"].update(KeyState="Enabled"),
    "DeletionDate": lambda d: d["metadata"].update(KeyState="PendingDeletion", DeletionDate="2000-01-01T00:00:00+00:00"),
    "material-id": lambda d: d["materials"][0].update(KeyMaterialId="00" * 32),
    "integrity": lambda d: d.update(integrity=d["integrity"][::-1]),
    "no-integrity": lambda d: d.pop("integrity"),
}


@pytest.mark.parametrize("edit", sorted(HAND_EDITS))
def test_key_file_hand_edits_are_refused(pristine, tmp_path, edit):
    env = clone(pristine.path, tmp_path / "k")
    # A disabled key edited back to Enabled by hand must stay unusable.
    ok(run(env, "disable-key", "--key-id", pristine.sym))
    edit_toml(pristine.key_file(tmp_path / "k", pristine.sym), HAND_EDITS[edit])
    all_refused(env, uses(pristine, env, pristine.sym), tmp_path / "k")
    # ... and a later write (which runs the deletion sweep) does not destroy the edited key.
    ok(run(env, "create-key"))
    assert pristine.key_file(tmp_path / "k", pristine.sym).exists()


def test_swapped_key_files_are_refused(pristine, tmp_path):
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    a, b = pristine.key_file(copy, pristine.sym), pristine.key_file(copy, pristine.sym2)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    all_refused(env, uses(pristine, env, pristine.sym) + uses(pristine, env, pristine.sym2), copy)


def test_swapped_signing_keys_never_sign_with_the_wrong_key(pristine, tmp_path):
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    pristine.key_file(copy, pristine.ecc).write_bytes(pristine.key_file(copy, pristine.ecc2).read_bytes())
    all_refused(env, uses(pristine, env, pristine.ecc), copy)


@pytest.mark.parametrize("field", ["wrapped", "nonce", "PublicKey", "whole-entry"])
def test_material_pasted_from_another_key_is_refused(pristine, tmp_path, field):
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    donor = tomllib.loads(pristine.key_file(copy, pristine.ecc2).read_text())["materials"][0]

    def paste(doc):
        if field == "whole-entry":
            doc["materials"][0] = dict(donor)
        else:
            doc["materials"][0][field] = donor[field]

    edit_toml(pristine.key_file(copy, pristine.ecc), paste)
    all_refused(env, uses(pristine, env, pristine.ecc), copy)


def _resealed(pristine, copy, key_id, change):
    """Edit a key file *and* recompute its integrity tag, as an attacker holding the master
    key's integrity sub-key could: the wrapped material's AAD binding must still refuse it."""
    from kmscli.keyring import Keyring

    from conftest import PASSPHRASE

    keyring = Keyring.open(copy)
    keyring._master = keyring.master_from_passphrase(PASSPHRASE.encode())
    doc = keyring.load_key(key_id)
    change(doc)
    keyring.save_key(doc)


@pytest.mark.parametrize(
    "change",
    [
        lambda d, donor: d["metadata"].update(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC"),
        lambda d, donor: d["materials"][0].update(wrapped=donor["wrapped"], nonce=donor["nonce"]),
        lambda d, donor: d["materials"][0].update(KeyMaterialId=donor["KeyMaterialId"]),
    ],
    ids=["spec-and-usage", "material", "material-id"],
)
def test_resealed_edits_still_fail_to_unwrap(pristine, tmp_path, change):
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    donor = tomllib.loads(pristine.key_file(copy, pristine.sym2).read_text())["materials"][0]
    _resealed(pristine, copy, pristine.sym, lambda d: change(d, donor))
    doc = tomllib.loads(pristine.key_file(copy, pristine.sym).read_text())
    commands = (
        uses(pristine, env, pristine.hmac)[:1]
        if doc["metadata"]["KeySpec"] == "HMAC_256"
        else uses(pristine, env, pristine.sym)[:2]  # the ones that unwrap material
    )
    for command in commands:
        command = [pristine.sym if c == pristine.hmac else c for c in command]
        result = run(env, *command)
        if command[0] == "decrypt" and doc["materials"][0]["KeyMaterialId"] != pristine.blob_material_id:
            # The blob names a material the key no longer has: the opaque ciphertext error.
            assert result.status == 3 and "InvalidCiphertextException" in result.stderr, result.stderr
        else:
            damaged(result)


# --- alias buckets and keyring.toml ------------------------------------------------------------


@pytest.mark.parametrize("alias", ["alias/main", "alias/signer"])
def test_aliases_file_mutations_are_refused(pristine, tmp_path, alias):
    """Each mutation of the bucket that holds ``alias`` is refused by every command that
    reads that bucket: following the alias, or creating or deleting an alias of it."""
    using = {
        "alias/main": [
            ["encrypt", "--key-id", "alias/main", "--plaintext", "x"],
            ["decrypt", "--key-id", "alias/main", "--ciphertext-blob", pristine.blob],
        ],
        "alias/signer": [
            ["sign", "--key-id", "alias/signer", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"],
            ["get-public-key", "--key-id", "alias/signer"],
        ],
    }[alias]
    commands = [
        *using,
        ["create-alias", "--alias-name", name_in_bucket_of(alias), "--target-key-id", pristine.sym2],
        ["delete-alias", "--alias-name", alias],
    ]
    name = alias_file(pristine.path, alias).relative_to(pristine.path)
    every_mutation_refused(pristine, tmp_path, name, f"the bucket of {alias}", commands)


def test_alias_redirected_by_hand_is_refused(pristine, tmp_path):
    """alias/main moved to another key by editing its bucket (aliases/<2 hex>.toml): encrypting 'to alias/main'
    must not silently use the attacker's choice of key."""
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    edit_toml(alias_file(copy, "alias/main"), lambda d: d["aliases"]["alias/main"].update(TargetKeyId=pristine.sym2))
    edit_toml(alias_file(copy, "alias/signer"), lambda d: d["aliases"]["alias/signer"].update(TargetKeyId=pristine.ecc2))
    all_refused(
        env,
        [
            ["encrypt", "--key-id", "alias/main", "--plaintext", "x"],
            ["sign", "--key-id", "alias/signer", "--message", "m", "--signing-algorithm", "ECDSA_SHA_256"],
            ["get-public-key", "--key-id", "alias/signer"],
        ],
        copy,
    )


def test_keyring_file_mutations_are_refused(pristine, tmp_path):
    commands = [
        ["encrypt", "--key-id", pristine.sym, "--plaintext", "x"],
        ["decrypt", "--ciphertext-blob", pristine.blob],
        ["create-key"],
    ]
    every_mutation_refused(pristine, tmp_path, "keyring.toml", "keyring.toml", commands)


@pytest.mark.parametrize(
    "field,value",
    [("region", "us-east-1"), ("account_id", "111111111111"), ("keyring_id", "0" * 8 + "-0000-4000-8000-" + "0" * 12)],
)
def test_keyring_file_hand_edits_are_refused(pristine, tmp_path, field, value):
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    edit_toml(copy / "keyring.toml", lambda d: d.update({field: value}))
    all_refused(env, [["encrypt", "--key-id", pristine.sym, "--plaintext", "x"], ["create-key"]], copy)


def test_unknown_files_in_keys_dir_are_ignored_not_trusted(pristine, tmp_path):
    """A file whose name is not <uuid>.toml is never read as a key."""
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    (copy / "keys" / "evil.toml").write_bytes(pristine.key_file(copy, pristine.sym).read_bytes())
    ids = [k["KeyId"] for k in ok(run(env, "list-keys"))["Keys"]]
    assert "evil" not in " ".join(ids) and len(ids) == 5
    assert re.fullmatch(r"[0-9a-f-]{36}", ids[0])


@pytest.mark.parametrize(
    "field,value",
    [("region", "us-east-1"), ("created", "2000-01-01T00:00:00+00:00"), ("master_key", None)],
)
def test_keyring_file_edits_with_a_recomputed_checksum_are_refused(pristine, tmp_path, field, value):
    """An attacker can recompute the plain checksum; the passphrase check still tells the
    right passphrase on an edited file (damaged, 5) from a wrong passphrase (4)."""
    from kmscli.keyring import format as fmt

    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    doc = tomllib.loads((copy / "keyring.toml").read_text())
    if field == "master_key":
        nonce = bytearray(fmt.b64d(doc["master_key"]["nonce"], "nonce"))
        nonce[0] ^= 1
        doc["master_key"]["nonce"] = fmt.b64e(bytes(nonce))
    else:
        doc[field] = value
    (copy / "keyring.toml").write_bytes(fmt.dump_keyring(doc))
    all_refused(env, [["encrypt", "--key-id", pristine.sym, "--plaintext", "x"], ["create-key"]], copy)
    wrong = run({**env, "KMSCLI_PASSPHRASE": "not the passphrase"}, "create-key")
    assert wrong.status == 4 and "IncorrectPassphraseException" in wrong.stderr


def test_kdf_edits_with_a_recomputed_checksum_look_like_a_wrong_passphrase(pristine, tmp_path):
    """The documented limit: a new salt (with the checksum recomputed) derives another
    wrapping key, which nothing can tell from a wrong passphrase. It is refused all the same."""
    from kmscli.keyring import format as fmt

    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    doc = tomllib.loads((copy / "keyring.toml").read_text())
    doc["kdf"]["salt"] = fmt.b64e(bytes(16))
    (copy / "keyring.toml").write_bytes(fmt.dump_keyring(doc))
    before = snapshot(copy)
    result = run(env, "create-key")
    assert result.status == 4 and result.stdout == b""
    assert result.stderr.startswith("kmscli: error: IncorrectPassphraseException: ")
    assert snapshot(copy) == before


def test_every_command_using_key_material_verifies_the_alias_it_followed(pristine, tmp_path):
    """Issue 11: `decrypt-file --key-id alias/NAME` resolved the alias before unlocking, so a
    hand-edited aliases.toml chose which key "alias/main" meant: a file encrypted under the
    attacker's choice was decrypted as if it were under alias/main. What a command resolved
    before the unlock is now checked at the unlock."""
    copy = tmp_path / "k"
    env = clone(pristine.path, copy)
    (tmp_path / "plain").write_bytes(b"attacker's file")
    enc, blob = tmp_path / "enc", tmp_path / "blob"
    ok(run(env, "encrypt-file", "--key-id", pristine.sym2, "--in", tmp_path / "plain", "--out", enc))
    ok(run(env, "encrypt", "--key-id", pristine.sym2, "--plaintext", "x", "--out", blob))
    edit_toml(alias_file(copy, "alias/main"), lambda d: d["aliases"]["alias/main"].update(TargetKeyId=pristine.sym2))
    all_refused(
        env,
        [
            ["decrypt-file", "--key-id", "alias/main", "--in", enc, "--out", tmp_path / "out"],
            ["decrypt", "--key-id", "alias/main", "--ciphertext-blob", f"fileb://{blob}"],
            ["re-encrypt", "--source-key-id", "alias/main", "--ciphertext-blob", f"fileb://{blob}",
             "--destination-key-id", pristine.sym],
            ["generate-data-key", "--key-id", "alias/main", "--key-spec", "AES_256"],
            ["encrypt-file", "--key-id", "alias/main", "--in", tmp_path / "plain", "--out", tmp_path / "o2"],
        ],
        copy,
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "o2").exists()
