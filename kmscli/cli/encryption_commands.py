"""encrypt, decrypt."""

from __future__ import annotations

import click

from .. import specs
from ..errors import InvalidCiphertextException
from .members import aws_members
from .io import ciphertext_in, data_in, deliver, streamed_file_hint
from .options import choice, encryption_context_option, in_option, key_id_option, out_option, parse_pairs

encryption_algorithm_option = click.option(
    "--encryption-algorithm", type=choice(specs.ENCRYPTION_ALGORITHMS), default=specs.SYMMETRIC_DEFAULT, show_default=True
)


@click.command()
@aws_members("Encrypt")
@key_id_option()
@click.option("--plaintext", metavar="TEXT", help="The plaintext: the UTF-8 bytes of TEXT (base64 with --cli-binary-format base64), or the bytes of file://PATH or fileb://PATH.")
@in_option("Read the plaintext from FILE (- for standard input).")
@encryption_context_option()
@encryption_algorithm_option
@out_option("ciphertext")
@click.pass_obj
def encrypt(obj, key_id, plaintext, in_path, encryption_context, encryption_algorithm, out_path, **aws):
    """Encrypt up to 4096 bytes under a symmetric key, or RSA-OAEP under an RSA key.

    The symmetric ciphertext names its key and key material, so decrypt needs no --key-id.

    \b
    Example:
      kmscli encrypt --key-id alias/backups --plaintext 'secret' \\
          --encryption-context purpose=backup --out secret.bin
    """
    data = data_in(
        text=plaintext,
        path=in_path,
        limit=specs.SYMMETRIC_PLAINTEXT_MAX,
        what="the plaintext",
        option="--plaintext",
        too_large_hint="encrypt data of any size with: kmscli encrypt-file --key-id KEY --in FILE --out FILE",
    )
    context = parse_pairs(encryption_context, "--encryption-context")
    result = obj.call(
        "Encrypt",
        {"KeyId": key_id, "Plaintext": data, "EncryptionContext": context or None, "EncryptionAlgorithm": encryption_algorithm},
        aws,
    )
    deliver(obj, result, "CiphertextBlob", out_path, source=in_path)


@click.command()
@aws_members("Decrypt")
@click.option("--ciphertext-blob", metavar="BASE64", help="The ciphertext, base64 (or fileb://PATH).")
@in_option("Read the raw ciphertext from FILE (- for standard input).")
@key_id_option(required=False, help_="The key (optional for symmetric ciphertexts, which name their key).")
@encryption_context_option()
@encryption_algorithm_option
@out_option("plaintext")
@click.pass_obj
def decrypt(obj, ciphertext_blob, in_path, key_id, encryption_context, encryption_algorithm, out_path, **aws):
    """Decrypt a ciphertext that encrypt produced (or that openssl made with the public key).

    \b
    Example:
      kmscli decrypt --in secret.bin --encryption-context purpose=backup --out -
    """
    blob = ciphertext_in(ciphertext_blob, in_path)
    context = parse_pairs(encryption_context, "--encryption-context")
    try:
        result = obj.call(
            "Decrypt",
            {"CiphertextBlob": blob, "KeyId": key_id, "EncryptionContext": context or None,
             "EncryptionAlgorithm": encryption_algorithm},
            aws,
        )
    except InvalidCiphertextException as e:
        e.hint = streamed_file_hint(blob) or e.hint
        raise
    deliver(obj, result, "Plaintext", out_path, source=in_path, may_be_text=True)  # the user's own data
