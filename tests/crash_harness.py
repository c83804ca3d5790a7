"""Crash trials: kill a kmscli process with SIGKILL at a random moment, then check the keyring.

One trial: a fresh keyring; a worker process that repeats one kind of change through the
CLI (or, for change-passphrase, through ``Keyring.change_passphrase``) and appends a line
to an acknowledgement log after each change returns; SIGKILL after a random delay; then the
checks of issue 7:

- the keyring opens, with the old or the new passphrase (exactly one of them);
- every key file verifies, every wrapped material unwraps, every alias bucket verifies;
- every acknowledged change is there, and at most the one change in flight besides;
- temp files left by the kill are only ``.tmp-*`` names, and the next write removes them;
- every file is still 0600 and every directory 0700.

tests/test_crashes.py runs a small sample of trials in CI; bench/crash_campaign.py runs the
same code with hundreds. ``python tests/crash_harness.py worker OP KEYRING LOG`` is the worker.
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OPS = ("create-key", "rotate", "alias", "change-passphrase", "rotate-master-key")
EXTRA_KEYS = 6  # the rotate-master-key op rewraps these too: more files, more moments to crash in
PASSPHRASE = "crash test passphrase"
PLAINTEXT = b"acknowledged before the crash"
ROTATIONS_PER_KEY = 20  # under AWS's 25 on-demand rotations per key


def passphrase(n: int) -> bytes:
    """The passphrase after ``n`` acknowledged changes (n = 0: the one init set)."""
    return PASSPHRASE.encode() if n == 0 else f"{PASSPHRASE} #{n}".encode()


def alias_ops():
    """The alias worker's changes, in order: (command, alias name, target role)."""
    n = 0
    while True:
        yield ("create-alias", f"alias/crash-{n}", "a")
        yield ("update-alias", f"alias/crash-{n}", "b")
        if n:
            yield ("delete-alias", f"alias/crash-{n - 1}", None)
        n += 1


def alias_model(count: int, keys: dict) -> dict:
    """alias name -> target key id after the first ``count`` alias changes."""
    state: dict = {}
    ops = alias_ops()
    for _ in range(count):
        command, name, role = next(ops)
        if command == "delete-alias":
            state.pop(name)
        else:
            state[name] = keys[role]
    return state


# --- the worker (a separate process, killed at random) -----------------------------------------


def _cli(args: list[str]) -> dict:
    from kmscli.cli.main import main

    buffer = io.BytesIO()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", write_through=True)
    saved, sys.stdout = sys.stdout, wrapper
    try:
        status = main(args)
        out = buffer.getvalue()  # before the wrapper, and with it the buffer, is closed
    finally:
        sys.stdout = saved
    if status != 0:
        raise SystemExit(f"worker: kmscli {args[0]} failed with status {status}")
    return json.loads(out) if out.strip() else {}


def worker(op: str, keyring: str, log: str) -> None:
    os.environ["KMSCLI_KEYRING"] = keyring
    os.environ["KMSCLI_PASSPHRASE"] = PASSPHRASE
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def ack(line: str) -> None:
        os.write(fd, (line + "\n").encode())  # one write: the line is in the file or not

    import kmscli.cli.key_commands  # noqa: F401 - imports done before "ready", so kills land in work
    import kmscli.service  # noqa: F401
    from kmscli.keyring import Keyring

    setup = json.loads(Path(log).with_suffix(".setup").read_text())
    ack("ready")
    if op == "create-key":
        while True:
            ack("key " + _cli(["create-key"])["KeyMetadata"]["KeyId"])
    elif op == "rotate":
        while True:
            key = _cli(["create-key"])["KeyMetadata"]["KeyId"]
            ack(f"key {key}")
            for n in range(1, ROTATIONS_PER_KEY + 1):
                _cli(["rotate-key-on-demand", "--key-id", key])
                ack(f"rotated {key} {n}")
                blob = _cli(["encrypt", "--key-id", key, "--plaintext", PLAINTEXT.decode()])["CiphertextBlob"]
                ack(f"blob {blob}")
    elif op == "alias":
        for count, (command, name, role) in enumerate(alias_ops(), start=1):
            args = [command, "--alias-name", name]
            if role:
                args += ["--target-key-id", setup[role]]
            _cli(args)
            ack(f"alias {count}")
    elif op == "change-passphrase":
        n = 0
        while True:
            keyring_ = Keyring.open(Path(keyring))
            keyring_._master = keyring_.master_from_passphrase(passphrase(n))
            keyring_.change_passphrase(passphrase(n + 1))
            n += 1
            ack(f"passphrase {n}")
    elif op == "rotate-master-key":
        # Alternately a plain rotation and one with a new passphrase, so that both paths
        # are killed at random moments.
        n = rotations = 0
        while True:
            keyring_ = Keyring.open(Path(keyring))
            keyring_.unlock_with_passphrase(passphrase(n))
            if rotations % 2:
                keyring_.change_passphrase(passphrase(n + 1), rotate_master_key=True)
                n += 1
                ack(f"passphrase {n}")
            else:
                keyring_.rotate_master_key()
                ack(f"master {rotations}")
            rotations += 1
    else:
        raise SystemExit(f"unknown op {op}")


# --- one trial, and its checks ---------------------------------------------------------------


class TrialFailure(AssertionError):
    pass


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise TrialFailure(message)


def new_keyring(path: Path) -> dict:
    """A fresh keyring (scrypt at 1 MiB) and the keys the op's worker starts from."""
    from kmscli import service  # noqa: F401 - the sweep, as every CLI writer has it
    from kmscli.keyring import Keyring
    from kmscli.service import keys

    keyring = Keyring.create(path, PASSPHRASE.encode(), scrypt_log2_n=10)
    from kmscli.service import aliases, encryption

    setup = {}
    for role in ("a", "b"):
        setup[role] = keys.create_key(keyring)["KeyMetadata"]["KeyId"]
    for n in range(EXTRA_KEYS):
        keys.create_key(keyring)
    aliases.create_alias(keyring, "alias/crash-setup", setup["a"])
    blob = encryption.encrypt(keyring, setup["b"], PLAINTEXT)["CiphertextBlob"]
    setup["blob"] = base64.b64encode(blob).decode()
    return setup


def run_trial(op: str, workdir: Path, rng: random.Random, max_delay: float = 0.6) -> dict:
    """One trial; raises TrialFailure with what was wrong. Returns counts for the report."""
    path = workdir / "keyring"
    setup = new_keyring(path)
    log = workdir / "acks.log"
    log.with_suffix(".setup").write_text(json.dumps(setup))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open(workdir / "worker.err", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, __file__, "worker", op, str(path), str(log)], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and log.read_bytes().startswith(b"ready")):
            _check(proc.poll() is None, f"worker died before starting: {(workdir / 'worker.err').read_text()[-500:]}")
            _check(time.monotonic() < deadline, "worker did not start in 30 s")
            time.sleep(0.005)
        time.sleep(rng.uniform(0, max_delay))
        _check(proc.poll() is None, f"worker stopped by itself: {(workdir / 'worker.err').read_text()[-500:]}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    acks = log.read_text().splitlines()[1:]
    from kmscli.errors import KmsError

    try:
        return check_keyring(op, path, setup, acks)
    except KmsError as e:  # a file that does not open or verify: the worst outcome
        raise TrialFailure(f"after {len(acks)} acknowledged changes: {e.name}: {e.message}") from None


def _check_rotation_state(path: Path) -> None:
    """Before any recovery: keyring.toml holds one master key, or two mid-rotation, and
    every sealed document names one of them (none is sealed under a key the file lacks)."""
    import tomllib

    doc = tomllib.loads((path / "keyring.toml").read_text())
    ids = {doc[f]["id"] for f in ("master_key", "next_master_key") if f in doc}
    files = [path / "aliases.toml", *(path / "aliases").glob("*.toml"), *(path / "keys").glob("*.toml")]
    for f in files:
        if f.exists():
            named = tomllib.loads(f.read_text()).get("master_key_id")
            _check(named in ids, f"{f.name} is sealed under master key {named}, keyring.toml holds {sorted(ids)}")
    return len(ids) == 2


def _alias_rows(aliases: dict) -> list:
    from kmscli.keyring.alias_index import row_of

    return sorted(row_of(name, entry) for name, entry in aliases.items())


def _temps(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.name.startswith(".tmp-")]


def check_keyring(op: str, path: Path, setup: dict, acks: list[str]) -> dict:
    from kmscli.errors import IncorrectPassphraseException
    from kmscli.keyring import Keyring
    from kmscli.service import aliases as alias_service
    from kmscli.service import encryption, keys

    # Only temp files may be left by the kill; every other name is a committed file.
    names = {p.relative_to(path).as_posix() for p in path.rglob("*") if not p.name.startswith(".tmp-")}
    expected_names = {
        "keyring.toml", "keys", ".lock", "aliases.toml", "session-epoch", "index", "index/format", "index/keys", "index/due",
        "aliases", "index/aliases",
    }
    _check(
        all(
            n in expected_names
            or (n.startswith(("keys/", "aliases/")) and n.endswith(".toml"))
            or n.startswith(("index/keys/", "index/due/", "index/aliases/"))
            for n in names
        ),
        f"unexpected files after the crash: {sorted(names)}",
    )
    left = len(_temps(path))

    # Opens with the old or the new passphrase: exactly one.
    acked_passphrases = sum(1 for a in acks if a.startswith("passphrase "))
    changes = ("change-passphrase", "rotate-master-key")
    candidates = [acked_passphrases, acked_passphrases + 1] if op in changes else [0]
    mid_rotation = _check_rotation_state(path) if op == "rotate-master-key" else False
    opened = []
    for n in candidates:
        keyring = Keyring.open(path)
        try:
            keyring.master_from_passphrase(passphrase(n))
        except IncorrectPassphraseException:
            continue
        keyring = Keyring.open(path)
        keyring.unlock_with_passphrase(passphrase(n))  # finishes an interrupted master-key rotation
        opened.append((n, keyring))
    _check(len(opened) == 1, f"the keyring opens with {[n for n, _ in opened]} of passphrases {candidates}")
    keyring = opened[0][1]

    # Everything verifies and unwraps.
    ids = keyring.key_ids()
    # The index, read as list-keys reads it, names exactly the key files (its unsure
    # entries settled by their files), or says it does not speak for them (a kill between
    # a key file and the index's stamp: list-keys then lists keys/, the next write rebuilds).
    if keyring.index.present():
        _check(keyring.index.ids_from("", len(ids) + 10) == ids, "the index and the key files disagree after the crash")
    _check(keyring.key_ids_from("", len(ids) + 10) == ids, "list-keys and the key files disagree after the crash")
    for key_id in ids:
        doc = keyring.load_key(key_id, verify=True)
        for entry in doc["materials"]:
            keyring.unwrap_material(doc["metadata"], entry)
    current_aliases = keyring.load_aliases(verify=True)
    # The alias index, when it says it speaks for the buckets, lists exactly their aliases.
    if keyring.alias_index.present():
        _check(keyring.alias_index.rows_from("", 10**6) == _alias_rows(current_aliases), "the alias index and the buckets disagree after the crash")

    # Every acknowledged change is there, and at most the one in flight besides.
    acked_keys = [a.split()[1] for a in acks if a.startswith("key ")]
    missing = set(acked_keys + [setup["a"], setup["b"]]) - set(ids)
    _check(not missing, f"acknowledged keys lost: {sorted(missing)}")
    extra = len(ids) - len(set(acked_keys)) - 2 - EXTRA_KEYS
    _check(extra in (0, 1), f"{extra} keys beyond those acknowledged")
    _check(keyring.load_aliases(verify=True)["alias/crash-setup"]["TargetKeyId"] == setup["a"], "the setup alias moved")
    blob = base64.b64decode(setup["blob"])
    _check(encryption.decrypt(keyring, blob)["Plaintext"] == PLAINTEXT, "the setup ciphertext no longer decrypts")
    if op == "rotate-master-key":
        _check("next_master_key" not in keyring.doc, "the interrupted rotation was not finished by the unlock")
    if op == "rotate":
        rotated: dict = {}
        for a in acks:
            if a.startswith("rotated "):
                _, key, n = a.split()
                rotated[key] = int(n)
        for key in acked_keys:
            count = len(keyring.load_key(key)["materials"]) - 1
            _check(count - rotated.get(key, 0) in (0, 1), f"key {key}: {count} rotations, {rotated.get(key, 0)} acknowledged")
        for a in acks:
            if a.startswith("blob "):
                blob = base64.b64decode(a.split()[1])
                _check(encryption.decrypt(keyring, blob)["Plaintext"] == PLAINTEXT, "an acknowledged ciphertext no longer decrypts")
    if op == "alias":
        count = sum(1 for a in acks if a.startswith("alias "))
        actual = {name: a["TargetKeyId"] for name, a in current_aliases.items() if name != "alias/crash-setup"}
        _check(
            actual in (alias_model(count, setup), alias_model(count + 1, setup)),
            f"aliases after {count} acknowledged changes: {actual}",
        )
        alias_service.list_aliases(keyring)

    # The next write removes what the kill left, and leaves a true index; modes stay private.
    keys.create_key(keyring)
    _check(keyring.index.present(), "no index after the next write")
    _check(keyring.index.ids_from("", len(ids) + 10) == keyring.key_ids(), "the index is wrong after the next write")
    _check(keyring.alias_index.present(), "no alias index after the next write")
    _check(
        keyring.alias_index.rows_from("", 10**6) == _alias_rows(keyring.load_aliases(verify=True)),
        "the alias index is wrong after the next write",
    )
    _check(not _temps(path), f"temp files left after the next write: {_temps(path)}")
    for p in [path, *path.rglob("*")]:
        mode = stat.S_IMODE(p.stat().st_mode)
        _check(mode == (0o700 if p.is_dir() else 0o600), f"{p} has mode {mode:04o}")
    return {"acks": len(acks), "temps_left_by_kill": left, "mid_rotation": mid_rotation}


def run_trials(op: str, trials: int, workdir: Path, seed: int = 0, max_delay: float = 0.6) -> dict:
    """``trials`` trials of ``op``; raises TrialFailure naming the trial and its seed."""
    rng = random.Random(f"{op}-{seed}")
    totals = {"trials": 0, "acks": 0, "temps_left_by_kill": 0, "no_ack": 0, "mid_rotation": 0}
    for n in range(trials):
        trial_dir = workdir / f"{op}-{n}"
        trial_dir.mkdir(parents=True)
        try:
            result = run_trial(op, trial_dir, rng, max_delay)
        except TrialFailure as e:
            raise TrialFailure(f"{op} trial {n} (seed {seed}, in {trial_dir}): {e}") from None
        totals["trials"] += 1
        totals["acks"] += result["acks"]
        totals["temps_left_by_kill"] += result["temps_left_by_kill"] > 0
        totals["no_ack"] += result["acks"] == 0
        totals["mid_rotation"] += result["mid_rotation"]
    return totals


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "worker":
        worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit("usage: crash_harness.py worker OP KEYRING LOG")
