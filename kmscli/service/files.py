"""EncryptFile and DecryptFile: envelope encryption of input of any size, in constant memory.

A fresh 256-bit data key per file is wrapped by a KMS key (a SYMMETRIC_DEFAULT key through
the ordinary Encrypt blob, with the encryption context as its AAD; or an RSA
ENCRYPT_DECRYPT key with RSAES_OAEP_SHA_256), and the data is sealed in chunks by
kmscli.crypto.stream. The header format is kmscli.service.fileformat.

Functions here read a binary source and hand output to a ``write`` callable; where the
output goes, and when it becomes visible, is the caller's business (the CLI writes to a
temp file and renames it only after the last chunk authenticated). A ``write`` that keeps
views after it returns (a background writer) says how many with ``held_views``.
"""

from __future__ import annotations

import os
import re
from typing import BinaryIO

from .. import crypto, specs
from ..crypto import asymmetric, stream
from ..errors import (
    InvalidKeyUsageException,
    ValidationException,
)
from ..keyring import Keyring, is_key_id
from . import ciphertext, fileformat
from .encryption import check_context, open_rsa, open_symmetric, seal_rsa, seal_symmetric
from .keys import check_algorithm, usable_key
from .resolve import check_named_key

RSA_WRAPPING = "RSAES_OAEP_SHA_256"
_ARN_KEY_ID = re.compile(r"^arn:aws:kms:[^:]*:[^:]*:key/(?P<id>[0-9a-f-]{36})$")


def _result(key_arn: str, algorithm: str, header: fileformat.Header, size: int) -> dict:
    return {
        "KeyId": key_arn,
        "EncryptionAlgorithm": algorithm,
        # Extra fields: what was written, for scripts and logs.
        "FileFormatVersion": fileformat.VERSION,
        "ChunkSize": header.chunk_size,
        "PlaintextSize": size,
    }


def _seal_payload(header: fileformat.Header, data_key: bytes, source: BinaryIO, write, progress, held_views: int) -> int:
    write(memoryview(header.raw))
    key = stream.file_key(data_key, header.salt, header.raw)
    return stream.encrypt(
        key, header.nonce_prefix, header.chunk_size, source.readinto, write, progress, held_views=held_views
    )


def _new_header(algorithm: str, key_id: str, wrapped: bytes, chunk_log2: int) -> fileformat.Header:
    return fileformat.new_header(
        algorithm=algorithm,
        key_id=key_id,
        salt=os.urandom(stream.SALT_SIZE),
        nonce_prefix=os.urandom(stream.NONCE_PREFIX_SIZE),
        wrapped_key=wrapped,
        chunk_log2=chunk_log2,
    )


def _check_chunk_log2(chunk_log2: int) -> None:
    low, high = fileformat.CHUNK_LOG2_RANGE
    if not low <= chunk_log2 <= high:
        raise ValidationException(f"the chunk size must be 2**{low} to 2**{high} bytes")


def encrypt_file(
    keyring: Keyring,
    key_id: str,
    source: BinaryIO,
    write,
    *,
    encryption_context: dict | None = None,
    chunk_log2: int = fileformat.CHUNK_LOG2_DEFAULT,
    progress=None,
    held_views: int = 0,
) -> dict:
    """Encrypt ``source`` under a symmetric or RSA ENCRYPT_DECRYPT key of the keyring."""
    _check_chunk_log2(chunk_log2)
    doc = usable_key(keyring, key_id, specs.ENCRYPT_DECRYPT)
    meta = doc["metadata"]
    context = check_context(encryption_context, meta)
    data_key = os.urandom(stream.DATA_KEY_SIZE)
    if meta["KeySpec"] == specs.SYMMETRIC_DEFAULT:
        algorithm = specs.SYMMETRIC_DEFAULT
        wrapped = seal_symmetric(keyring, doc, data_key, context)
    else:
        algorithm = RSA_WRAPPING
        check_algorithm(meta, algorithm, "EncryptionAlgorithm")
        wrapped = seal_rsa(doc, algorithm, data_key)
    header = _new_header(algorithm, meta["KeyId"], wrapped, chunk_log2)
    size = _seal_payload(header, data_key, source, write, progress, held_views)
    return _result(keyring.key_arn(meta["KeyId"]), algorithm, header, size)


def public_key_encryption_config(pem: bytes) -> tuple[str, str, object]:
    """(KeyId as the PEM gives it, key id UUID, public key) of an exported RSA
    ENCRYPT_DECRYPT key, or the error that says why the PEM cannot be used."""
    from .pem import read_config

    config = read_config(pem)
    shown_id = config.get("KeyId")
    if not shown_id:
        raise ValidationException(
            "the public key file carries no KeyId: the encrypted file could not name its key",
            hint="export the key with: kmscli get-public-key --key-id KEY --out key.pem",
        )
    m = _ARN_KEY_ID.match(shown_id)
    key_uuid = shown_id if is_key_id(shown_id) else (m["id"] if m else None)
    if key_uuid is None or not is_key_id(key_uuid):
        raise ValidationException("the KeyId in the public key file is not a key id or key ARN")
    usage = config.get("KeyUsage")
    if usage != specs.ENCRYPT_DECRYPT:
        raise InvalidKeyUsageException(
            f"key {shown_id} has KeyUsage {usage or '(not given)'}; encrypt-file needs ENCRYPT_DECRYPT"
        )
    spec = specs.KEY_SPECS.get(config.get("KeySpec", ""))
    if spec is None or spec.family != "RSA":
        raise InvalidKeyUsageException(
            f"key {shown_id} is {config.get('KeySpec') or 'of no stated KeySpec'}; "
            "encrypt-file --public-key needs an RSA ENCRYPT_DECRYPT key"
        )
    if RSA_WRAPPING not in config.get("EncryptionAlgorithms", []):
        raise InvalidKeyUsageException(f"key {shown_id} does not list EncryptionAlgorithm {RSA_WRAPPING}")
    try:
        public_key = asymmetric.load_public_key(pem)
    except crypto.CryptoFailure:
        raise ValidationException("the public key file holds no valid public key") from None
    if not asymmetric.public_key_matches_spec(public_key, spec):
        raise ValidationException(f"the public key in the file is not an {spec.name} key as its KeySpec says")
    return shown_id, key_uuid, public_key


def encrypt_file_for_public_key(
    pem: bytes,
    source: BinaryIO,
    write,
    *,
    encryption_context: dict | None = None,
    chunk_log2: int = fileformat.CHUNK_LOG2_DEFAULT,
    progress=None,
    held_views: int = 0,
) -> dict:
    """Encrypt with only an exported public key (no keyring, no passphrase); the keyring
    that holds the private key opens the file with decrypt_file."""
    _check_chunk_log2(chunk_log2)
    if encryption_context:
        raise ValidationException("EncryptionContext is supported only with symmetric encryption keys")
    shown_id, key_uuid, public_key = public_key_encryption_config(pem)
    data_key = os.urandom(stream.DATA_KEY_SIZE)
    wrapped = asymmetric.rsa_encrypt(public_key, specs.RSA_ENCRYPTION_HASHES[RSA_WRAPPING], data_key)
    header = _new_header(RSA_WRAPPING, key_uuid, wrapped, chunk_log2)
    size = _seal_payload(header, data_key, source, write, progress, held_views)
    return _result(shown_id, RSA_WRAPPING, header, size)


def decrypt_file(
    keyring: Keyring,
    source: BinaryIO,
    write,
    *,
    key_id: str | None = None,
    encryption_context: dict | None = None,
    progress=None,
    held_views: int = 0,
) -> dict:
    """Decrypt a streamed file; ``write`` receives only authenticated chunks, in order.

    If this raises after some writes, the output is incomplete and must be discarded. Every
    failure after the key is found is the one opaque InvalidCiphertextException."""
    header = fileformat.read_header(source)
    if progress:
        progress(len(header.raw))
    check_named_key(keyring, key_id, header.key_id, "the file", hint="omit --key-id: the file names its own key")
    data_key, key_arn = _unwrap_data_key(keyring, header, encryption_context)
    try:
        key = stream.file_key(data_key, header.salt, header.raw)
        size = stream.decrypt(
            key, header.nonce_prefix, header.chunk_size, source.readinto, write, progress, held_views=held_views
        )
    except crypto.CryptoFailure:
        raise ciphertext.invalid() from None
    return _result(key_arn, header.algorithm, header, size)


def _unwrap_data_key(keyring: Keyring, header: fileformat.Header, context: dict | None) -> tuple[bytes, str]:
    if header.algorithm == specs.SYMMETRIC_DEFAULT:
        data_key, meta = open_symmetric(keyring, header.wrapped_key, None, context)
        if meta["KeyId"] != header.key_id:
            raise ciphertext.invalid()  # a blob lifted from another file's header
    else:
        doc = usable_key(keyring, header.key_id, specs.ENCRYPT_DECRYPT)
        meta = doc["metadata"]
        check_algorithm(meta, header.algorithm, "EncryptionAlgorithm")
        check_context(context, meta)
        data_key = open_rsa(keyring, doc, header.algorithm, header.wrapped_key)
    if len(data_key) != stream.DATA_KEY_SIZE:
        raise ciphertext.invalid()
    return data_key, keyring.key_arn(meta["KeyId"])
