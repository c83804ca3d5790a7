"""The streamed file format as docs/file-format.md writes it down, read by an independent
implementation here (cryptography's primitives, the documented offsets), and pinned by a
committed sample so that a change which would strand existing files fails a test.

tests/data/stream-v1.kms (version 1, the key named by its UUID) and tests/data/stream-v2.kms
(version 2, the key named by its ARN) were written by encrypt_file_for_public_key with a 64 KiB
chunk size to the throwaway RSA key in tests/data/stream-v1-rsa-2048.key (used by no one
else); their plaintext is _sample_plaintext()."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import uuid
from pathlib import Path

import pytest
from conftest import run_in_process
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DATA = Path(__file__).parent / "data"
LABEL = b"kmscli streamed file v1 payload key"


def _sample_plaintext() -> bytes:
    return b"".join(b"kmscli streamed file format v1 sample, line %05d\n" % i for i in range(1400))


def read_per_the_docs(data: bytes, private_key) -> tuple[dict, bytes]:
    """Decrypt a streamed file using only what docs/file-format.md says."""
    assert data[:8] == b"kmsclisf" and data[8] in (1, 2)
    chunk_size = 1 << data[9]
    wrapping = {1: "SYMMETRIC_DEFAULT", 2: "RSAES_OAEP_SHA_256"}[data[10]]
    if data[8] == 1:
        key_id = str(uuid.UUID(bytes=data[11:27]))
        salt, prefix = data[27:59], data[59:66]
        (length,) = struct.unpack(">H", data[66:68])
        wrapped_at = 68
    else:
        salt, prefix = data[11:43], data[43:50]
        name_length, length = struct.unpack(">HH", data[50:54])
        key_id = data[54 : 54 + name_length].decode("utf-8")
        wrapped_at = 54 + name_length
    header, body = data[: wrapped_at + length], data[wrapped_at + length :]
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    data_key = private_key.decrypt(header[wrapped_at:], oaep)
    info = LABEL + hashlib.sha256(header).digest()
    file_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(data_key)
    aead = AESGCM(file_key)
    step = chunk_size + 16
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    plaintext = b""
    for counter, chunk in enumerate(chunks):
        last = counter == len(chunks) - 1
        nonce = prefix + counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
        plaintext += aead.decrypt(nonce, chunk, None)
    fields = {"chunk_size": chunk_size, "wrapping": wrapping, "key_id": key_id, "chunks": len(chunks)}
    return fields, plaintext


@pytest.fixture(scope="module")
def sample_key():
    return serialization.load_pem_private_key((DATA / "stream-v1-rsa-2048.key").read_bytes(), password=None)


def test_committed_v1_sample_reads_per_the_docs(sample_key):
    fields, plaintext = read_per_the_docs((DATA / "stream-v1.kms").read_bytes(), sample_key)
    assert plaintext == _sample_plaintext()
    assert fields == {
        "chunk_size": 65536,
        "wrapping": "RSAES_OAEP_SHA_256",
        "key_id": "5a3c0e6e-1c2b-4f5e-9a51-0d3e6f7a8b9c",
        "chunks": 2,
    }


def test_committed_v2_sample_reads_per_the_docs(sample_key):
    fields, plaintext = read_per_the_docs((DATA / "stream-v2.kms").read_bytes(), sample_key)
    assert plaintext == _sample_plaintext()
    assert fields == {
        "chunk_size": 65536,
        "wrapping": "RSAES_OAEP_SHA_256",
        "key_id": "arn:aws:kms:local:000000000000:key/5a3c0e6e-1c2b-4f5e-9a51-0d3e6f7a8b9c",
        "chunks": 2,
    }


@pytest.mark.parametrize("sample, version", [("stream-v1.kms", 1), ("stream-v2.kms", 2)])
def test_committed_samples_open_with_kmscli(sample_key, sample, version):
    """The implementation still reads what it wrote before (given the unwrapped data key)."""
    from kmscli.crypto import stream
    from kmscli.service import fileformat

    source = io.BytesIO((DATA / sample).read_bytes())
    header = fileformat.read_header(source)
    assert header.version == version and header.key_id.endswith("5a3c0e6e-1c2b-4f5e-9a51-0d3e6f7a8b9c")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    data_key = sample_key.decrypt(header.wrapped_key, oaep)
    out = io.BytesIO()
    key = stream.file_key(data_key, header.salt, header.raw)
    stream.decrypt(key, header.nonce_prefix, header.chunk_size, source.readinto, out.write)
    assert out.getvalue() == _sample_plaintext()


@pytest.mark.parametrize("size", [0, 5, (1 << 20) * 2 + 3])
def test_kmscli_output_reads_per_the_docs(tmp_path, size):
    """A fresh key made here, exported as get-public-key writes it; kmscli encrypts with the
    PEM alone; the reader above, with the private key, gets the plaintext back."""
    from kmscli.service.pem import to_pem

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_id = str(uuid.uuid4())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        to_pem(
            {
                "KeyId": f"arn:aws:kms:local:000000000000:key/{key_id}",
                "KeySpec": "RSA_2048",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "EncryptionAlgorithms": ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
                "PublicKey": der,
            }
        )
    )
    plaintext = os.urandom(size)
    (tmp_path / "in").write_bytes(plaintext)
    r = run_in_process(
        ["encrypt-file", "--public-key", pem, "--in", tmp_path / "in", "--out", tmp_path / "in.kms"],
        env={"KMSCLI_KEYRING": str(tmp_path / "no-keyring")},
    )
    assert r.status == 0, r.stderr
    fields, back = read_per_the_docs((tmp_path / "in.kms").read_bytes(), private)
    assert back == plaintext
    assert fields["key_id"] == f"arn:aws:kms:local:000000000000:key/{key_id}" and fields["chunk_size"] == 1 << 20
    assert fields["chunks"] == max(1, -(-size // (1 << 20)))
