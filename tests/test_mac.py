"""HMAC keys: generation against an independent HMAC, constant-time verification, refusals."""

from __future__ import annotations

import pytest

from seed_keys import assert_error, b64, ok_json, seed, unb64  # noqa: F401

MAC_KEYS = [(f"HMAC_{bits}", f"HMAC_SHA_{bits}", bits // 8) for bits in (224, 256, 384, 512)]


def generate(seed, spec, algorithm, message: bytes) -> bytes:
    r = seed.run("generate-mac", "--key-id", seed.key(spec, "GENERATE_VERIFY_MAC"), "--in", "-",
                 "--mac-algorithm", algorithm, input=message)
    result = ok_json(r)
    assert result["MacAlgorithm"] == algorithm
    return unb64(result["Mac"])


def verify(seed, spec, algorithm, message: bytes, mac: bytes):
    return seed.run("verify-mac", "--key-id", seed.key(spec, "GENERATE_VERIFY_MAC"), "--in", "-",
                    "--mac-algorithm", algorithm, "--mac", b64(mac), input=message)


@pytest.mark.parametrize("spec,algorithm,length", MAC_KEYS)
def test_mac_round_trip_and_length(seed, spec, algorithm, length):
    mac = generate(seed, spec, algorithm, b"message")
    assert len(mac) == length
    assert generate(seed, spec, algorithm, b"message") == mac  # deterministic
    assert generate(seed, spec, algorithm, b"messagE") != mac
    result = ok_json(verify(seed, spec, algorithm, b"message", mac))
    assert result["MacValid"] is True
    assert result["KeyId"].endswith(seed.key(spec, "GENERATE_VERIFY_MAC"))


@pytest.mark.parametrize("spec,algorithm,length", MAC_KEYS)
def test_every_flipped_byte_of_a_mac_is_refused(seed, spec, algorithm, length):
    mac = generate(seed, spec, algorithm, b"message")
    for position in range(length):
        damaged = bytearray(mac)
        damaged[position] ^= 0x01
        assert_error(verify(seed, spec, algorithm, b"message", bytes(damaged)), 1, "KMSInvalidMacException")


def test_truncated_extended_and_foreign_macs_are_refused(seed):
    mac = generate(seed, "HMAC_256", "HMAC_SHA_256", b"message")
    for damaged in (mac[:-1], mac[:16], mac + b"\x00"):
        assert_error(verify(seed, "HMAC_256", "HMAC_SHA_256", b"message", damaged), 1, "KMSInvalidMacException")
    assert_error(verify(seed, "HMAC_256", "HMAC_SHA_256", b"other", mac), 1, "KMSInvalidMacException")


def test_mac_matches_an_independent_hmac_over_the_key_material(seed):
    # The material is only reachable through the keyring API; Python's hmac is independent
    # of the cryptography library kmscli uses.
    import hmac

    from conftest import PASSPHRASE

    from kmscli.keyring import Keyring
    from kmscli.service.keys import material

    key_id = seed.key("HMAC_384", "GENERATE_VERIFY_MAC")
    ring = Keyring.open(seed.path, unlocker=lambda k: k.master_from_passphrase(PASSPHRASE.encode()))
    secret = material(ring, ring.load_key(key_id))
    assert len(secret) == 48
    expected = hmac.new(secret, b"message", "sha384").digest()
    assert generate(seed, "HMAC_384", "HMAC_SHA_384", b"message") == expected


@pytest.mark.parametrize("size,ok", [(1, True), (4096, True), (0, False), (4097, False)])
def test_mac_messages_are_1_to_4096_bytes(seed, size, ok):
    r = seed.run("generate-mac", "--key-id", seed.key("HMAC_256", "GENERATE_VERIFY_MAC"), "--in", "-",
                 "--mac-algorithm", "HMAC_SHA_256", input=b"m" * size)
    if ok:
        assert len(unb64(ok_json(r)["Mac"])) == 32
    else:
        assert_error(r, 2, "ValidationException")


def test_mac_file_in_and_raw_out(seed, tmp_path):
    key = seed.key("HMAC_512", "GENERATE_VERIFY_MAC")
    r = seed.run("generate-mac", "--key-id", key, "--message", "hello", "--mac-algorithm", "HMAC_SHA_512",
                 "--out", tmp_path / "mac")
    assert "Mac" not in ok_json(r)
    r = seed.run("verify-mac", "--key-id", key, "--message", "hello", "--mac-algorithm", "HMAC_SHA_512",
                 "--mac-file", tmp_path / "mac")
    assert ok_json(r)["MacValid"] is True


def test_verify_mac_uses_the_constant_time_comparison(monkeypatch):
    # hmac_verify must go through HMAC.verify (constant time), never compare bytes itself.
    from cryptography.hazmat.primitives import hmac as chmac

    from kmscli.crypto import mac

    calls = []
    real = chmac.HMAC.verify

    def spy(self, signature):
        calls.append(signature)
        return real(self, signature)

    monkeypatch.setattr(chmac.HMAC, "verify", spy)
    tag = mac.hmac_sha("SHA_256", b"k" * 32, b"m")
    assert mac.hmac_verify("SHA_256", b"k" * 32, b"m", tag) is True
    assert mac.hmac_verify("SHA_256", b"k" * 32, b"m", bytes(32)) is False
    assert calls == [tag, bytes(32)]
