"""sign, verify, get-public-key."""

from __future__ import annotations

from contextlib import contextmanager

import click

from .. import specs
from ..errors import FileAccessException
from .members import aws_members
from .io import blob_in, data_in, deliver, read_public_key_file, write_output
from .options import checked_output, in_option, key_id_option, message_type_choice, out_option, signing_algorithm_choice
from .render import emit

message_option = click.option(
    "--message", metavar="TEXT", help="The message (or digest): the UTF-8 bytes of TEXT (base64 with --cli-binary-format base64), or the bytes of file://PATH or fileb://PATH."
)
message_type_option = click.option(
    "--message-type",
    type=message_type_choice,
    default="RAW",
    show_default=True,
    help="RAW: the message itself (--message: 1-4096 bytes; --in FILE: any size, larger ones "
    "signed as their streamed digest). DIGEST: its hash, signed as is "
    "(ED25519_PH_SHA_512: a 64-byte SHA-512 digest, hashed once more by Ed25519ph). "
    "EXTERNAL_MU: ML-DSA's 64-byte mu (FIPS 204).",
)
signing_algorithm_option = click.option(
    "--signing-algorithm",
    type=signing_algorithm_choice,
    help="Required, except for verify --public-key when the key file lists one algorithm.",
)

# The largest input either message type can be: a RAW message.
MESSAGE_LIMIT = specs.MESSAGE_MAX


@click.command()
@aws_members("Sign")
@key_id_option()
@message_option
@in_option("Read the message from FILE (- for standard input), of any size: see below.")
@message_type_option
@signing_algorithm_option
@out_option("signature")
@click.option("--detail", is_flag=True, help="kmscli only: with a file signed as its digest, add MessageType, "
              "MessageDigest and MessageDigestAlgorithm to the result (--output table always shows them).")
@click.pass_obj
def sign(obj, key_id, message, in_path, message_type, signing_algorithm, out_path, detail, **aws):
    """Sign a message, a file of any size, or a digest with an asymmetric SIGN_VERIFY key.

    Signatures are what AWS KMS returns (PKCS #1 for RSA, DER for ECDSA), so openssl
    verifies them with the key that get-public-key exports.

    --message keeps AWS's 4096-byte limit for RAW messages. A file given with --in that is
    larger than 4096 bytes is hashed as a stream and its digest signed (RSASSA_*, ECDSA_*, and
    ED25519_PH_SHA_512, which hashes a file of any size with SHA-512); the result says
    "MessageType": "DIGEST" and shows the digest. The signature is the same one openssl dgst
    -sign makes over the whole file.

    \b
    Example:
      kmscli sign --key-id alias/releases --in release.tar.gz \\
          --signing-algorithm ECDSA_SHA_256 --out release.tar.gz.sig
    """
    if signing_algorithm is None:
        raise click.UsageError("Missing option '--signing-algorithm'.")
    with message_source(message, in_path, message_type, signing_algorithm) as (data, stream):
        if stream is not None:
            from ..service import file_signing  # streamed files only: sign --message never loads it

            _streamed(aws)
            result = file_signing.sign_stream(
                obj.backend, key_id, stream, signing_algorithm=signing_algorithm, detail=detail or obj.output == "table"
            )
        else:
            result = obj.call(
                "Sign",
                {"KeyId": key_id, "Message": data, "MessageType": message_type, "SigningAlgorithm": signing_algorithm},
                aws,
            )
    deliver(obj, result, "Signature", out_path, source=in_path)


@click.command()
@aws_members("Verify")
@key_id_option(required=False, help_="The key: key id, key ARN, alias name or alias ARN.")
@click.option(
    "--public-key",
    "public_key_path",
    metavar="FILE",
    help="Verify offline with the public key in FILE (from get-public-key --out): no keyring, no passphrase.",
)
@message_option
@in_option("Read the message from FILE (- for standard input), of any size.")
@message_type_option
@signing_algorithm_option
@click.option("--signature", "signature_b64", metavar="BASE64", help="The signature, base64 (or fileb://PATH).")
@click.option("--signature-file", metavar="FILE", help="Read the raw signature from FILE.")
@click.option("--detail", is_flag=True, help="kmscli only: with a file verified over its digest, add MessageType, "
              "MessageDigest and MessageDigestAlgorithm to the result (--output table always shows them).")
@click.pass_obj
def verify(obj, key_id, public_key_path, message, in_path, message_type, signing_algorithm, signature_b64, signature_file,
           detail, **aws):
    """Check a signature. Exit status 1 when it is not valid.

    With --public-key FILE the keyring is never opened: the file that get-public-key --out
    wrote is enough, and its configuration names the signing algorithm when it lists only
    one. A file given with --in larger than 4096 bytes is verified over its streamed digest,
    as sign does.

    \b
    Example:
      kmscli verify --key-id alias/releases --in release.tar.gz \\
          --signing-algorithm ECDSA_SHA_256 --signature-file release.tar.gz.sig
      kmscli verify --public-key releases.pem --in release.tar.gz \\
          --signature-file release.tar.gz.sig
    """
    if (key_id is None) == (public_key_path is None):
        raise click.UsageError("give exactly one of --key-id and --public-key")
    if key_id is not None and signing_algorithm is None:
        raise click.UsageError("Missing option '--signing-algorithm' (needed with --key-id).")
    signature = blob_in(
        b64=signature_b64,
        path=signature_file,
        limit=specs.SIGNATURE_MAX,
        what="the signature",
        option="--signature",
        file_option="--signature-file",
    )
    pem = read_public_key_file(public_key_path) if public_key_path else None
    if pem is not None and aws:
        raise click.UsageError("--dry-run and --grant-tokens need --key-id: --public-key verifies offline")
    with message_source(message, in_path, message_type, signing_algorithm) as (data, stream):
        if pem is not None or stream is not None:
            from ..service import file_signing  # offline or streamed: verify --message never loads it
        if pem is not None:
            if stream is not None:
                result = file_signing.verify_offline_stream(
                    pem, stream, signature, signing_algorithm=signing_algorithm, detail=detail or obj.output == "table"
                )
            else:
                result = file_signing.verify_offline(
                    pem, data, signature, signing_algorithm=signing_algorithm, message_type=message_type
                )
        elif stream is not None:
            _streamed(aws)
            result = file_signing.verify_stream(
                obj.backend, key_id, stream, signature, signing_algorithm=signing_algorithm,
                detail=detail or obj.output == "table",
            )
        else:
            result = obj.call(
                "Verify",
                {"KeyId": key_id, "Message": data, "MessageType": message_type, "Signature": signature,
                 "SigningAlgorithm": signing_algorithm},
                aws,
            )
    emit(result, output=obj.output, query=obj.query)


def _streamed(aws: dict) -> None:
    """A message larger than AWS's limit is kmscli's own streamed signature: grant tokens are
    checked (and ignored, as everywhere); a dry run is AWS's, for messages AWS takes."""
    from ..service.request import check_grant_tokens

    check_grant_tokens(aws.get("GrantTokens"))
    if aws.get("DryRun"):
        raise click.UsageError("--dry-run takes a message of at most 4096 bytes (--message, or a small --in file)")


@contextmanager
def message_source(message: str | None, in_path: str | None, message_type: str, signing_algorithm: str | None = None):
    """(bytes, None) for a message within AWS's limit, or (None, stream) for a RAW --in
    message larger than that, to be hashed as it is read. An algorithm that signs only a
    digest (ED25519_PH_SHA_512) streams a RAW --in message of any size: it is hashed here."""
    if in_path is None or message_type != "RAW":
        yield data_in(text=message, path=in_path, limit=MESSAGE_LIMIT, what="the message", option="--message"), None
        return
    if message is not None:
        raise click.UsageError("give exactly one of --message and --in")
    from .stream_io import Prefixed, open_input  # --in only (threads and signals: start-up)

    with open_input(in_path, "the message") as (source, _size):
        try:
            head = source.read(MESSAGE_LIMIT + 1)
        except OSError as e:
            raise FileAccessException(f"cannot read the message from {in_path}: {e.strerror}") from None
        algorithm = specs.SIGNING_ALGORITHMS.get(signing_algorithm or "")
        digest_only = algorithm is not None and "RAW" not in algorithm.message_types
        if len(head) <= MESSAGE_LIMIT and not digest_only:
            yield head, None
        else:
            yield None, Prefixed(head, source)


@click.command("get-public-key")
@aws_members("GetPublicKey")
@key_id_option()
@click.option("--out", "out_path", metavar="FILE", callback=checked_output, help="Write the public key to FILE (- for standard output).")
@click.option(
    "--format",
    "key_format",
    type=click.Choice(["pem", "bare-pem", "der"]),
    default="pem",
    show_default=True,
    help="Format of --out: PEM with the key configuration as text before BEGIN; bare-pem, the "
    "PEM alone (for pycryptodome, python-ecdsa and other readers that refuse text before "
    "BEGIN); or raw DER.",
)
@click.pass_obj
def get_public_key(obj, key_id, out_path, key_format, **aws):
    """Export the public key (DER SubjectPublicKeyInfo) and the configuration to use it with.

    \b
    Example:
      kmscli get-public-key --key-id alias/releases --out releases.pem
      openssl pkey -pubin -in releases.pem -noout -text
      kmscli get-public-key --key-id alias/releases --out releases-bare.pem --format bare-pem
    """
    result = obj.call("GetPublicKey", {"KeyId": key_id}, aws)
    if out_path is not None:
        from ..service.pem import to_pem

        data = result["PublicKey"] if key_format == "der" else to_pem(result, with_config=key_format == "pem")
        # PEM is printable text, so write_output lets it reach a terminal; DER it refuses.
        write_output(out_path, data, may_be_text=key_format != "der")
        if out_path == "-":
            return
    emit(result, output=obj.output, query=obj.query)
