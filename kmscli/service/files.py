"""EncryptFile and DecryptFile: envelope encryption of input of any size, in constant memory.

A fresh 256-bit data key per file is wrapped by a KMS key (a SYMMETRIC_DEFAULT key through
GenerateDataKey, with the encryption context; or an RSA ENCRYPT_DECRYPT key through Encrypt
with RSAES_OAEP_SHA_256), and the data is sealed in chunks by kmscli.crypto.stream. The
header format is kmscli.service.fileformat; the header names the key by the ARN the KMS
answered with.

The KMS is a backend (kmscli/service/backend.py): the local keyring or a KMS endpoint. The
data key is asked of it and given back to it as AWS's operations do, so the same code
writes and reads files for a keyring's keys and for AWS KMS's, and the files are one format.

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
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    NotFoundException,
    ValidationException,
)
from ..keyring import is_key_id
from . import ciphertext, fileformat

RSA_WRAPPING = "RSAES_OAEP_SHA_256"
# A key ARN of any partition; the key id after key/ is a UUID or a multi-Region mrk- id.
_ARN_KEY_ID = re.compile(r"^arn:aws[a-z-]*:kms:[^:]*:[^:]*:key/(?P<id>[A-Za-z0-9-]{1,64})$")


def key_id_of(name: str) -> str:
    """The key id in a key ARN (or the key id itself)."""
    m = _ARN_KEY_ID.match(name)
    return m["id"] if m else name


def _result(key_arn: str, algorithm: str, header: fileformat.Header, size: int) -> dict:
    return {
        "KeyId": key_arn,
        "EncryptionAlgorithm": algorithm,
        # Extra fields: what was written (or read), for scripts and logs.
        "FileFormatVersion": header.version,
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
    backend,
    key_id: str,
    source: BinaryIO,
    write,
    *,
    encryption_context: dict | None = None,
    chunk_log2: int = fileformat.CHUNK_LOG2_DEFAULT,
    progress=None,
    held_views: int = 0,
) -> dict:
    """Encrypt ``source`` under a symmetric or RSA ENCRYPT_DECRYPT key of ``backend``."""
    _check_chunk_log2(chunk_log2)
    meta = backend.call("DescribeKey", {"KeyId": key_id})["KeyMetadata"]
    # The ARN from here on: an alias moved between two requests must not split the file.
    arn = meta.get("Arn") or meta["KeyId"]
    spec = specs.KEY_SPECS.get(meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or "")
    usage = meta.get("KeyUsage", specs.ENCRYPT_DECRYPT)  # moto's DescribeKey leaves it out
    if usage != specs.ENCRYPT_DECRYPT or spec is None or spec.name != specs.SYMMETRIC_DEFAULT and spec.family != "RSA":
        raise InvalidKeyUsageException(
            f"key {arn} is {meta.get('KeySpec')} of KeyUsage {usage}; encrypt-file needs a "
            "SYMMETRIC_DEFAULT or RSA key of KeyUsage ENCRYPT_DECRYPT"
        )
    if spec.name == specs.SYMMETRIC_DEFAULT:
        algorithm = specs.SYMMETRIC_DEFAULT
        answer = backend.call(
            "GenerateDataKey",
            {"KeyId": arn, "KeySpec": "AES_256", "EncryptionContext": encryption_context or None},
        )
        data_key, wrapped = answer["Plaintext"], answer["CiphertextBlob"]
    else:
        algorithm = RSA_WRAPPING
        data_key = os.urandom(stream.DATA_KEY_SIZE)
        answer = backend.call(
            "Encrypt",
            {"KeyId": arn, "Plaintext": data_key, "EncryptionAlgorithm": algorithm,
             "EncryptionContext": encryption_context or None},
        )
        wrapped = answer["CiphertextBlob"]
    if len(data_key) != stream.DATA_KEY_SIZE:
        raise ciphertext.invalid()
    named = answer.get("KeyId") or arn
    header = _new_header(algorithm, named, wrapped, chunk_log2)
    size = _seal_payload(header, data_key, source, write, progress, held_views)
    return _result(named, algorithm, header, size)


def public_key_encryption_config(pem: bytes) -> tuple[str, str, object]:
    """(KeyId as the PEM gives it, key id UUID, public key) of an exported RSA
    ENCRYPT_DECRYPT key, or the error that says why the PEM cannot be used."""
    from .pem import public_key_of, read_config

    config = read_config(pem)
    shown_id = config.get("KeyId")
    if not shown_id:
        raise ValidationException(
            "the public key file carries no KeyId: the encrypted file could not name its key",
            hint="export the key with: kmscli get-public-key --key-id KEY --out key.pem",
        )
    if not (is_key_id(shown_id) or _ARN_KEY_ID.match(shown_id)):
        raise ValidationException("the KeyId in the public key file is not a key id or key ARN")
    key_uuid = key_id_of(shown_id)
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
    return shown_id, key_uuid, public_key_of(pem, spec)


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
    header = _new_header(RSA_WRAPPING, shown_id, wrapped, chunk_log2)
    size = _seal_payload(header, data_key, source, write, progress, held_views)
    return _result(shown_id, RSA_WRAPPING, header, size)


def decrypt_file(
    backend,
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
    if key_id is not None:
        _check_named_key(backend, key_id, header.key_id)
    data_key, key_arn = _unwrap_data_key(backend, header, encryption_context)
    try:
        key = stream.file_key(data_key, header.salt, header.raw)
        size = stream.decrypt(
            key, header.nonce_prefix, header.chunk_size, source.readinto, write, progress, held_views=held_views
        )
    except crypto.CryptoFailure:
        raise ciphertext.invalid() from None
    return _result(key_arn, header.algorithm, header, size)


def _check_named_key(backend, key_id: str, named: str) -> None:
    """A --key-id given with a file that names its own key must name the same key."""
    meta = backend.call("DescribeKey", {"KeyId": key_id})["KeyMetadata"]
    same = meta.get("Arn") == named if _ARN_KEY_ID.match(named) else meta["KeyId"] == named
    if not same:
        raise IncorrectKeyException(
            f"the file was not encrypted under key {meta['KeyId']}",
            hint="omit --key-id: the file names its own key",
        )


def _unwrap_data_key(backend, header: fileformat.Header, context: dict | None) -> tuple[bytes, str]:
    request = {"CiphertextBlob": header.wrapped_key, "EncryptionContext": context or None}
    if header.algorithm != specs.SYMMETRIC_DEFAULT:
        # An RSA ciphertext does not name its key: the header does (AWS requires KeyId).
        request.update(KeyId=header.key_id, EncryptionAlgorithm=header.algorithm)
    # A symmetric blob names its own key; the answer's key must be the header's (checked
    # below), so a wrapped key lifted from another file's header is the one opaque error,
    # and so is any change to the header's key name.
    try:
        answer = backend.call("Decrypt", request)
    except IncorrectKeyException:
        raise ciphertext.invalid() from None  # the header's key and its wrapped key disagree
    except InvalidCiphertextException as e:
        e.hint = ciphertext.invalid().hint  # the file names its key and algorithm: only the context can be wrong
        raise
    except NotFoundException as e:
        e.hint = f"the file names its key {header.key_id}: decrypt it where that key is (a keyring, or --endpoint-url)"
        raise
    data_key = answer.get("Plaintext") or b""
    answered = answer.get("KeyId") or header.key_id
    if len(data_key) != stream.DATA_KEY_SIZE or key_id_of(answered) != key_id_of(header.key_id):
        raise ciphertext.invalid()
    return data_key, answered
