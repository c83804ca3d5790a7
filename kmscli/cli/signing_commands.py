"""sign, verify, get-public-key."""

from __future__ import annotations

import click

from .. import specs
from ..service import signing
from .io import blob_in, data_in, deliver, write_output
from .options import in_option, key_id_option, message_type_choice, out_option, signing_algorithm_choice
from .render import emit

message_option = click.option(
    "--message", metavar="TEXT", help="The message (or digest): the UTF-8 bytes of TEXT (or fileb://PATH)."
)
message_type_option = click.option(
    "--message-type",
    type=message_type_choice,
    default="RAW",
    show_default=True,
    help="RAW: the message itself (1-4096 bytes). DIGEST: its hash, signed as is "
    "(ED25519_PH_SHA_512: a 64-byte SHA-512 digest, hashed once more by Ed25519ph). "
    "EXTERNAL_MU: ML-DSA's 64-byte mu (FIPS 204).",
)
signing_algorithm_option = click.option("--signing-algorithm", type=signing_algorithm_choice, required=True)

# The largest input either message type can be: a RAW message.
MESSAGE_LIMIT = specs.MESSAGE_MAX


@click.command()
@key_id_option()
@message_option
@in_option("Read the message from FILE (- for standard input).")
@message_type_option
@signing_algorithm_option
@out_option("signature")
@click.pass_obj
def sign(obj, key_id, message, in_path, message_type, signing_algorithm, out_path):
    """Sign a message or a digest with an asymmetric SIGN_VERIFY key.

    Signatures are what AWS KMS returns (PKCS #1 for RSA, DER for ECDSA), so openssl
    verifies them with the key that get-public-key exports.

    \b
    Example:
      kmscli sign --key-id alias/releases --in notes.txt \\
          --signing-algorithm ECDSA_SHA_256 --out notes.sig
    """
    data = data_in(text=message, path=in_path, limit=MESSAGE_LIMIT, what="the message", option="--message")
    result = signing.sign(
        obj.open_keyring(), key_id, data, signing_algorithm=signing_algorithm, message_type=message_type
    )
    deliver(obj, result, "Signature", out_path, source=in_path)


@click.command()
@key_id_option()
@message_option
@in_option("Read the message from FILE (- for standard input).")
@message_type_option
@signing_algorithm_option
@click.option("--signature", "signature_b64", metavar="BASE64", help="The signature, base64 (or fileb://PATH).")
@click.option("--signature-file", metavar="FILE", help="Read the raw signature from FILE.")
@click.pass_obj
def verify(obj, key_id, message, in_path, message_type, signing_algorithm, signature_b64, signature_file):
    """Check a signature. Exit status 1 when it is not valid.

    \b
    Example:
      kmscli verify --key-id alias/releases --in notes.txt \\
          --signing-algorithm ECDSA_SHA_256 --signature-file notes.sig
    """
    data = data_in(text=message, path=in_path, limit=MESSAGE_LIMIT, what="the message", option="--message")
    signature = blob_in(
        b64=signature_b64,
        path=signature_file,
        limit=specs.SIGNATURE_MAX,
        what="the signature",
        option="--signature",
        file_option="--signature-file",
    )
    result = signing.verify(
        obj.open_keyring(),
        key_id,
        data,
        signature,
        signing_algorithm=signing_algorithm,
        message_type=message_type,
    )
    emit(result, output=obj.output, query=obj.query)


@click.command("get-public-key")
@key_id_option()
@click.option("--out", "out_path", metavar="FILE", help="Write the public key to FILE (- for standard output).")
@click.option(
    "--format",
    "key_format",
    type=click.Choice(["pem", "der"]),
    default="pem",
    show_default=True,
    help="Format of --out: PEM with the key configuration as text before BEGIN, or raw DER.",
)
@click.pass_obj
def get_public_key(obj, key_id, out_path, key_format):
    """Export the public key (DER SubjectPublicKeyInfo) and the configuration to use it with.

    \b
    Example:
      kmscli get-public-key --key-id alias/releases --out releases.pem
      openssl pkey -pubin -in releases.pem -noout -text
    """
    result = signing.get_public_key(obj.open_keyring(), key_id)
    if out_path is not None:
        from ..service.pem import to_pem

        data = to_pem(result) if key_format == "pem" else result["PublicKey"]
        # PEM is printable text, so write_output lets it reach a terminal; DER it refuses.
        write_output(out_path, data)
        if out_path == "-":
            return
    emit(result, output=obj.output, query=obj.query)
