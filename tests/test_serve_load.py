"""A bounded load and fault test of ``kmscli serve``: 8 boto3 clients × 500 mixed requests while
kmscli commands in other processes change the same keyring; no request fails, no update is
lost, and what the CLI changed is what the next request sees. Then SIGKILL during writes: the
keyring still opens for every command, acknowledged changes are there, old ciphertexts decrypt.

Sizes are bounded so the whole module stays well under a minute on two busy cores."""

from __future__ import annotations

import base64
import json
import random
import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import run_in_process
from serve_clients import cli, cli_json, make_keyring, new_access_key, start_server


CLIENTS = 8
REQUESTS = 500
CLI_ROUNDS_MAX = 12
DEADLINE = 150.0  # seconds: a hung server fails the test instead of hanging the suite


@pytest.fixture
def server(tmp_path):
    env = make_keyring(tmp_path / "keyring")
    s = start_server(env, tmp_path / "serve.log", access_key=new_access_key(env))
    try:
        yield s
    finally:
        if s.alive():
            assert s.stop() == 0
    assert "Traceback" not in s.log()


def test_eight_clients_with_cli_writes_interleaved(server):
    admin = server.client()
    sym = admin.create_key(Description="load: symmetric")["KeyMetadata"]["KeyId"]
    ecc = admin.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    tagged = admin.create_key(Description="load: tags from everyone")["KeyMetadata"]["KeyId"]
    toggled = admin.create_key(Description="load: disabled and enabled by the CLI")["KeyMetadata"]["KeyId"]
    seed_blob = admin.encrypt(KeyId=sym, Plaintext=b"seed", EncryptionContext={"n": "seed"})["CiphertextBlob"]

    failures: list[str] = []
    last_tag: dict[str, str] = {}
    done = threading.Event()
    started = time.monotonic()

    def client_loop(i: int) -> None:
        kms = server.client(read_timeout=60)
        rng = random.Random(i)
        n = 0
        try:
            for n in range(REQUESTS):
                if time.monotonic() - started > DEADLINE:
                    failures.append(f"client {i}: deadline passed at request {n}")
                    return
                kind = n % 8
                if kind == 0:
                    data = rng.randbytes(rng.randint(1, 4096))
                    blob = kms.encrypt(KeyId=sym, Plaintext=data, EncryptionContext={"c": str(i)})["CiphertextBlob"]
                    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"c": str(i)})["Plaintext"] == data
                elif kind == 1:
                    assert kms.decrypt(CiphertextBlob=seed_blob, EncryptionContext={"n": "seed"})["Plaintext"] == b"seed"
                elif kind == 2:
                    message = f"client {i} message {n}".encode()
                    sig = kms.sign(KeyId=ecc, Message=message, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
                    assert kms.verify(KeyId=ecc, Message=message, Signature=sig,
                                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
                elif kind == 3:
                    out = kms.generate_data_key(KeyId=sym, KeySpec="AES_256")
                    assert len(out["Plaintext"]) == 32
                elif kind == 4:
                    assert kms.describe_key(KeyId=sym)["KeyMetadata"]["KeyState"] == "Enabled"
                elif kind == 5:
                    kms.tag_resource(KeyId=tagged, Tags=[{"TagKey": f"client-{i}", "TagValue": str(n)}])
                    last_tag[f"client-{i}"] = str(n)
                elif kind == 6:
                    kms.list_aliases(Limit=100)
                else:
                    kms.generate_random(NumberOfBytes=32)
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised in a thread
            failures.append(f"client {i} request {n}: {e!r}")

    cli_tags: dict[str, str] = {}
    aliases: list[str] = []
    stale: list[str] = []

    def cli_loop() -> None:
        """Writes through kmscli in other processes, each followed by a request that must see it."""
        kms = server.client(read_timeout=60)
        env = server.env
        try:
            for j in range(CLI_ROUNDS_MAX):
                if done.is_set() and j >= 3:
                    return
                status, _, err = cli(env, "create-alias", "--alias-name", f"alias/cli-{j}", "--target-key-id", sym)
                assert status == 0, err
                aliases.append(f"alias/cli-{j}")
                if kms.describe_key(KeyId=f"alias/cli-{j}")["KeyMetadata"]["KeyId"] != sym:
                    stale.append(f"alias/cli-{j}")
                status, _, err = cli(env, "tag-resource", "--key-id", tagged, "--tag", f"cli-{j}={j}")
                assert status == 0, err
                cli_tags[f"cli-{j}"] = str(j)
                status, _, err = cli(env, "disable-key", "--key-id", toggled)
                assert status == 0, err
                try:
                    kms.encrypt(KeyId=toggled, Plaintext=b"x")
                    stale.append(f"round {j}: encrypt with a key the CLI had just disabled")
                except ClientError as e:
                    if e.response["Error"]["Code"] != "DisabledException":
                        raise
                status, _, err = cli(env, "enable-key", "--key-id", toggled)
                assert status == 0, err
                kms.encrypt(KeyId=toggled, Plaintext=b"x")  # enabled again: must work
        except Exception as e:  # noqa: BLE001
            failures.append(f"cli round: {e!r}")

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(CLIENTS)]
    writer = threading.Thread(target=cli_loop)
    writer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE + 30)
    done.set()
    writer.join(timeout=DEADLINE)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads + [writer]), "a client hung"
    assert failures == [], failures[:10]
    assert stale == [], stale
    assert len(cli_tags) >= 3

    # No lost update: every tag's last write is there, through serve and through the CLI.
    expected = {**last_tag, **cli_tags}
    assert len(last_tag) == CLIENTS
    served_tags = {t["TagKey"]: t["TagValue"] for t in admin.list_resource_tags(KeyId=tagged, Limit=50)["Tags"]}
    assert served_tags == expected
    disk_tags = {t["TagKey"]: t["TagValue"] for t in cli_json(server.env, "list-resource-tags", "--key-id", tagged)["Tags"]}
    assert disk_tags == expected
    listed = {a["AliasName"] for a in admin.list_aliases(KeyId=sym)["Aliases"]}
    assert set(aliases) <= listed
    log_lines = server.log().splitlines()
    assert len(log_lines) >= CLIENTS * REQUESTS, "one log line per request"
    print(f"\n{CLIENTS}x{REQUESTS} requests with {len(cli_tags)} CLI rounds in {elapsed:.1f} s")


def test_sigkill_during_writes_leaves_a_keyring_every_command_opens(tmp_path):
    env = make_keyring(tmp_path / "keyring")
    access = new_access_key(env)
    server = start_server(env, tmp_path / "serve-1.log", access_key=access)
    earlier: list[tuple[str, bytes, bytes]] = []  # (key, plaintext, ciphertext) made before any kill
    acknowledged: dict[str, list] = {"keys": [], "aliases": [], "tags": []}
    try:
        kms = server.client()
        for n in range(3):
            key = kms.create_key(Description=f"before kill {n}")["KeyMetadata"]["KeyId"]
            data = f"earlier secret {n}".encode()
            earlier.append((key, data, kms.encrypt(KeyId=key, Plaintext=data)["CiphertextBlob"]))

        for round_ in range(2):
            stop = threading.Event()

            def writer(w: int) -> None:
                client = server.client(read_timeout=20, connect_timeout=2)
                n = 0
                while not stop.is_set() and n < 200:
                    n += 1
                    try:
                        key = client.create_key(Description=f"r{round_} w{w} n{n}")["KeyMetadata"]["KeyId"]
                        acknowledged["keys"].append(key)
                        alias = f"alias/r{round_}-w{w}-{n}"
                        client.create_alias(AliasName=alias, TargetKeyId=key)
                        acknowledged["aliases"].append((alias, key))
                        client.tag_resource(KeyId=earlier[w % 3][0], Tags=[{"TagKey": f"w{w}", "TagValue": str(n)}])
                        client.rotate_key_on_demand(KeyId=key)
                        client.update_key_description(KeyId=key, Description="updated")
                    except Exception:  # noqa: BLE001 - the server is being killed under it
                        return

            writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
            for t in writers:
                t.start()
            # Kill once writes are under way (a few acknowledged), at a moment that differs by round.
            wanted, deadline = len(acknowledged["keys"]) + 3, time.monotonic() + 60
            while len(acknowledged["keys"]) < wanted and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.05 + 0.3 * round_)
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait(timeout=10)
            stop.set()
            for t in writers:
                t.join(timeout=30)
            assert not any(t.is_alive() for t in writers)

            # Every command still opens the keyring.
            keys = {k["KeyId"] for k in cli_json(env, "list-keys")["Keys"]}
            assert set(acknowledged["keys"]) <= keys, "an acknowledged CreateKey was lost"
            for key in keys:  # in this process: the same command, without a process start per key
                r = run_in_process(["describe-key", "--key-id", key], env=env)
                assert r.status == 0, r.stderr
                assert json.loads(r.stdout)["KeyMetadata"]["KeyState"] == "Enabled"
            aliases = {a["AliasName"]: a.get("TargetKeyId") for a in cli_json(env, "list-aliases")["Aliases"]}
            for alias, key in acknowledged["aliases"]:
                assert aliases.get(alias) == key, alias
            for key, data, blob in earlier:
                out = cli_json(env, "decrypt", "--ciphertext-blob", base64.b64encode(blob).decode())
                assert base64.b64decode(out["Plaintext"]) == data
            status, _, err = cli(env, "create-key", "--description", f"after kill {round_}")
            assert status == 0, err

            # And serve starts again on it.
            server = start_server(env, tmp_path / f"serve-{round_ + 2}.log", access_key=access)
            kms = server.client()
            for key, data, blob in earlier:
                assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == data
        assert len(acknowledged["keys"]) >= 6, "too few writes were acknowledged before the kills"
    finally:
        if server.alive():
            server.stop()
