"""Hash algorithms by their KMS names, and streaming digests of files of any size."""

from __future__ import annotations

from typing import BinaryIO

CHUNK = 1 << 20


def hash_algorithm(name: str):
    from cryptography.hazmat.primitives import hashes

    return {
        "SHA_1": hashes.SHA1,
        "SHA_224": hashes.SHA224,
        "SHA_256": hashes.SHA256,
        "SHA_384": hashes.SHA384,
        "SHA_512": hashes.SHA512,
    }[name]()


def digest(name: str, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hash_algorithm(name))
    h.update(data)
    return h.finalize()


def digest_stream(name: str, stream: BinaryIO) -> bytes:
    """Digest of everything ``stream`` yields, in constant memory."""
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hash_algorithm(name))
    while chunk := stream.read(CHUNK):
        h.update(chunk)
    return h.finalize()
