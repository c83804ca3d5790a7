"""re-encrypt, generate-data-key[-without-plaintext], generate-data-key-pair[-without-plaintext],
generate-random."""

from __future__ import annotations

import click

from .. import specs
from .members import aws_members
from .io import ciphertext_in, deliver
from .options import choice, encryption_context_option, in_option, key_id_option, out_option, parse_pairs

_algorithm = choice(specs.ENCRYPTION_ALGORITHMS)


@click.command("re-encrypt")
@aws_members("ReEncrypt")
@click.option("--ciphertext-blob", metavar="BASE64", help="The ciphertext, base64 (or fileb://PATH).")
@in_option("Read the raw ciphertext from FILE (- for standard input).")
@key_id_option(
    required=False,
    name="--source-key-id",
    dest="source_key_id",
    help_="The key that encrypted it (optional for symmetric ciphertexts, which name their key).",
)
@key_id_option(
    name="--destination-key-id",
    dest="destination_key_id",
    help_="The key to encrypt under: key id, key ARN, alias name or alias ARN.",
)
@encryption_context_option("--source-encryption-context", "source_context")
@encryption_context_option("--destination-encryption-context", "destination_context")
@click.option("--source-encryption-algorithm", type=_algorithm, default=specs.SYMMETRIC_DEFAULT, show_default=True)
@click.option("--destination-encryption-algorithm", type=_algorithm, default=specs.SYMMETRIC_DEFAULT, show_default=True)
@out_option("new ciphertext")
@click.pass_obj
def re_encrypt(
    obj,
    ciphertext_blob,
    in_path,
    source_key_id,
    destination_key_id,
    source_context,
    destination_context,
    source_encryption_algorithm,
    destination_encryption_algorithm,
    out_path,
    **aws,
):
    """Decrypt a ciphertext and encrypt it again under another key, in one step.

    The plaintext never leaves kmscli. From an RSA ciphertext, --source-key-id and
    --source-encryption-algorithm are required.

    \b
    Example:
      kmscli re-encrypt --in secret.bin --source-encryption-context purpose=backup \\
          --destination-key-id alias/archive --destination-encryption-context purpose=archive \\
          --out secret.archive.bin
    """
    blob = ciphertext_in(ciphertext_blob, in_path)
    source = parse_pairs(source_context, "--source-encryption-context")
    destination = parse_pairs(destination_context, "--destination-encryption-context")
    result = obj.call(
        "ReEncrypt",
        {
            "CiphertextBlob": blob,
            "DestinationKeyId": destination_key_id,
            "SourceKeyId": source_key_id,
            "SourceEncryptionContext": source or None,
            "DestinationEncryptionContext": destination or None,
            "SourceEncryptionAlgorithm": source_encryption_algorithm,
            "DestinationEncryptionAlgorithm": destination_encryption_algorithm,
        },
        aws,
    )
    deliver(obj, result, "CiphertextBlob", out_path, source=in_path)


def _size_options(f):
    f = click.option(
        "--number-of-bytes",
        type=int,
        metavar="N",
        help=f"Length of the data key in bytes, 1-{specs.DATA_KEY_BYTES_MAX} (instead of --key-spec).",
    )(f)
    return click.option(
        "--key-spec", type=choice(specs.DATA_KEY_SPECS), help="AES_128 or AES_256 (instead of --number-of-bytes)."
    )(f)


def _data_key(obj, key_id, key_spec, number_of_bytes, encryption_context, out_path, *, with_plaintext, **aws):
    context = parse_pairs(encryption_context, "--encryption-context")
    result = obj.call(
        "GenerateDataKey" if with_plaintext else "GenerateDataKeyWithoutPlaintext",
        {"KeyId": key_id, "KeySpec": key_spec, "NumberOfBytes": number_of_bytes, "EncryptionContext": context or None},
        aws,
    )
    deliver(obj, result, "Plaintext" if with_plaintext else "CiphertextBlob", out_path)


@click.command("generate-data-key")
@aws_members("GenerateDataKey")
@key_id_option(help_="The symmetric encryption key that protects the data key.")
@_size_options
@encryption_context_option()
@out_option("plaintext data key (the rest of the result is still printed)")
@click.pass_obj
def generate_data_key(obj, key_id, key_spec, number_of_bytes, encryption_context, out_path, **aws):
    """Make a data key for envelope encryption: the key in plaintext, and encrypted.

    Use the Plaintext to encrypt your data, forget it, and keep the CiphertextBlob beside the
    data; `kmscli decrypt` gives the plaintext key back. Give exactly one of --key-spec and
    --number-of-bytes.

    \b
    Example:
      kmscli generate-data-key --key-id alias/backups --key-spec AES_256 \\
          --encryption-context purpose=backup --out data.key --query CiphertextBlob
    """
    _data_key(obj, key_id, key_spec, number_of_bytes, encryption_context, out_path, with_plaintext=True, **aws)


@click.command("generate-data-key-without-plaintext")
@aws_members("GenerateDataKeyWithoutPlaintext")
@key_id_option(help_="The symmetric encryption key that protects the data key.")
@_size_options
@encryption_context_option()
@out_option("encrypted data key")
@click.pass_obj
def generate_data_key_without_plaintext(obj, key_id, key_spec, number_of_bytes, encryption_context, out_path, **aws):
    """Make a data key and return it only encrypted, for later use (via `kmscli decrypt`).

    \b
    Example:
      kmscli generate-data-key-without-plaintext --key-id alias/backups \\
          --key-spec AES_256 --out data.key.enc
    """
    _data_key(obj, key_id, key_spec, number_of_bytes, encryption_context, out_path, with_plaintext=False, **aws)


def _pair_spec_option(f):
    return click.option(
        "--key-pair-spec",
        type=choice(s for s in specs.DATA_KEY_PAIR_SPECS if not specs.KEY_SPECS[s].unsupported),
        required=True,
        help="The kind of key pair.",
    )(f)


def _data_key_pair(obj, key_id, key_pair_spec, encryption_context, out_path, *, with_plaintext, **aws):
    context = parse_pairs(encryption_context, "--encryption-context")
    result = obj.call(
        "GenerateDataKeyPair" if with_plaintext else "GenerateDataKeyPairWithoutPlaintext",
        {"KeyId": key_id, "KeyPairSpec": key_pair_spec, "EncryptionContext": context or None},
        aws,
    )
    field = "PrivateKeyPlaintext" if with_plaintext else "PrivateKeyCiphertextBlob"
    deliver(obj, result, field, out_path)


@click.command("generate-data-key-pair")
@aws_members("GenerateDataKeyPair")
@key_id_option(help_="The symmetric encryption key that protects the private key.")
@_pair_spec_option
@encryption_context_option()
@out_option("private key (PKCS #8 DER; the rest of the result is still printed)")
@click.pass_obj
def generate_data_key_pair(obj, key_id, key_pair_spec, encryption_context, out_path, **aws):
    """Make an asymmetric data key pair: the private key in plaintext and encrypted, and
    the public key.

    PrivateKeyPlaintext is PKCS #8 DER, PublicKey is DER SubjectPublicKeyInfo, and
    PrivateKeyCiphertextBlob opens with `kmscli decrypt`.

    \b
    Example:
      kmscli generate-data-key-pair --key-id alias/backups --key-pair-spec ECC_NIST_P256 \\
          --out client.p8.der
      openssl pkey -inform DER -in client.p8.der -noout -text
    """
    _data_key_pair(obj, key_id, key_pair_spec, encryption_context, out_path, with_plaintext=True, **aws)


@click.command("generate-data-key-pair-without-plaintext")
@aws_members("GenerateDataKeyPairWithoutPlaintext")
@key_id_option(help_="The symmetric encryption key that protects the private key.")
@_pair_spec_option
@encryption_context_option()
@out_option("encrypted private key")
@click.pass_obj
def generate_data_key_pair_without_plaintext(obj, key_id, key_pair_spec, encryption_context, out_path, **aws):
    """Make an asymmetric data key pair and return the private key only encrypted.

    \b
    Example:
      kmscli generate-data-key-pair-without-plaintext --key-id alias/backups \\
          --key-pair-spec RSA_2048 --query PublicKey --output text
    """
    _data_key_pair(obj, key_id, key_pair_spec, encryption_context, out_path, with_plaintext=False, **aws)


@click.command("generate-random")
@aws_members("GenerateRandom")
@click.option(
    "--number-of-bytes",
    type=int,
    required=True,
    metavar="N",
    help=f"How many random bytes, 1-{specs.RANDOM_BYTES_MAX}.",
)
@out_option("random bytes")
@click.pass_obj
def generate_random(obj, number_of_bytes, out_path, **aws):
    """Random bytes from the operating system's CSPRNG, as AWS's GenerateRandom.

    Needs no keyring and no passphrase: nothing secret is involved.

    \b
    Example:
      kmscli generate-random --number-of-bytes 32 --out nonce.bin
    """
    deliver(obj, obj.call("GenerateRandom", {"NumberOfBytes": number_of_bytes}, aws), "Plaintext", out_path)
