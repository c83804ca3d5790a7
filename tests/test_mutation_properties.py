"""Every mutation of a ciphertext blob, a signature or a MAC is refused (property tests).

Run against the service layer with an unlocked keyring, so hypothesis can try hundreds of
mutations in a second or two; the CLI maps these same exceptions to exit statuses 3 and 1."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardening_util import Pristine

from kmscli.errors import InvalidCiphertextException, KMSInvalidMacException, KMSInvalidSignatureException, ValidationException


@pytest.fixture(scope="module")
def unlocked(tmp_path_factory):
    from conftest import PASSPHRASE

    from kmscli.keyring import Keyring
    from kmscli.keyring import format as fmt

    p = Pristine(tmp_path_factory.mktemp("props") / "keyring")
    keyring = Keyring.open(p.path)
    keyring._master = keyring.master_from_passphrase(PASSPHRASE.encode())
    p.keyring = keyring
    p.blob_bytes = fmt.b64d(p.blob, "blob")
    p.signature_bytes = fmt.b64d(p.signature, "signature")
    p.mac_bytes = fmt.b64d(p.mac, "mac")
    return p


@st.composite
def mutated(draw, original: bytes):
    """A byte string that differs from ``original``: a flipped bit, a truncation, an
    appendage, a replaced run of bytes, or a splice of two of these."""
    kind = draw(st.sampled_from(["flip", "truncate", "append", "replace", "prepend"]))
    data = bytearray(original)
    if kind == "flip":
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "append":
        data += draw(st.binary(min_size=1, max_size=64))
    elif kind == "prepend":
        data = bytearray(draw(st.binary(min_size=1, max_size=8))) + data
    else:
        i = draw(st.integers(0, len(data) - 1))
        j = draw(st.integers(i + 1, min(len(data), i + 32)))
        data[i:j] = draw(st.binary(min_size=j - i, max_size=j - i))
    mutated = bytes(data)
    if mutated == original:  # flips that cancel out, or a replacement by the same bytes
        mutated = original + b"\x00"
    return mutated


PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_the_originals_are_accepted(unlocked):
    """The control: without a mutation each of these is accepted, so the refusals below mean something."""
    from kmscli.service import encryption, mac, signing

    p = unlocked
    assert encryption.decrypt(p.keyring, p.blob_bytes)["Plaintext"] == p.plaintext
    assert signing.verify(
        p.keyring, p.ecc, p.message.encode(), p.signature_bytes, signing_algorithm="ECDSA_SHA_256"
    )["SignatureValid"]
    assert mac.verify_mac(p.keyring, p.hmac, p.message.encode(), p.mac_bytes, mac_algorithm="HMAC_SHA_256")["MacValid"]


@PROPERTY
@given(data=st.data())
def test_every_mutated_ciphertext_is_refused(unlocked, data):
    from kmscli.service import encryption

    blob = data.draw(mutated(unlocked.blob_bytes))
    with pytest.raises((InvalidCiphertextException, ValidationException)) as info:
        encryption.decrypt(unlocked.keyring, blob)
    if isinstance(info.value, ValidationException):
        assert not 1 <= len(blob) <= 6144  # only a size out of AWS's bounds is "bad input"


@PROPERTY
@given(data=st.data())
def test_every_mutated_signature_is_refused(unlocked, data):
    from kmscli.service import signing

    signature = data.draw(mutated(unlocked.signature_bytes))
    with pytest.raises((KMSInvalidSignatureException, ValidationException)):
        signing.verify(
            unlocked.keyring, unlocked.ecc, unlocked.message.encode(), signature, signing_algorithm="ECDSA_SHA_256"
        )


@PROPERTY
@given(data=st.data())
def test_every_mutated_mac_is_refused(unlocked, data):
    from kmscli.service import mac

    tag = data.draw(mutated(unlocked.mac_bytes))
    with pytest.raises((KMSInvalidMacException, ValidationException)):
        mac.verify_mac(unlocked.keyring, unlocked.hmac, unlocked.message.encode(), tag, mac_algorithm="HMAC_SHA_256")


@PROPERTY
@given(message=st.binary(min_size=1, max_size=64))
def test_a_signature_verifies_only_its_own_message_and_key(unlocked, message):
    from kmscli.service import signing

    if message == unlocked.message.encode():
        return
    for key, msg in ((unlocked.ecc, message), (unlocked.ecc2, unlocked.message.encode())):
        with pytest.raises(KMSInvalidSignatureException):
            signing.verify(unlocked.keyring, key, msg, unlocked.signature_bytes, signing_algorithm="ECDSA_SHA_256")
