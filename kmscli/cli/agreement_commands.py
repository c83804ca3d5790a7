"""derive-shared-secret."""

from __future__ import annotations

import click

from .. import specs
from .members import aws_members
from .io import FILE, FILEB, deliver, read_source
from .options import choice, key_id_option, out_option


@click.command("derive-shared-secret")
@aws_members("DeriveSharedSecret")
@key_id_option(help_="A KEY_AGREEMENT key (ECC_NIST_P256, _P384 or _P521).")
@click.option(
    "--key-agreement-algorithm",
    type=choice(specs.KEY_AGREEMENT_ALGORITHMS),
    default="ECDH",
    show_default=True,
)
@click.option(
    "--public-key",
    "public_key_path",
    metavar="FILE",
    required=True,
    help="The peer's public key: DER or PEM SubjectPublicKeyInfo, 1-8192 bytes "
    "(FILE, fileb://FILE as aws-cli writes it, or - for standard input).",
)
@out_option("shared secret")
@click.pass_obj
def derive_shared_secret(obj, key_id, key_agreement_algorithm, public_key_path, out_path, **aws):
    """Derive the ECDH shared secret of a KEY_AGREEMENT key and a peer's public key.

    The result is the raw shared secret (the x-coordinate of the shared point), as AWS KMS
    returns it: run it through a KDF (e.g. HKDF) before using it as a key.

    \b
    Example:
      kmscli create-key --key-spec ECC_NIST_P256 --key-usage KEY_AGREEMENT
      kmscli derive-shared-secret --key-id alias/agree --key-agreement-algorithm ECDH \\
          --public-key peer.pem --out shared.bin
    """
    path = public_key_path
    for prefix in (FILEB, FILE):  # aws-cli's forms; a bare path is kmscli's own
        if path.startswith(prefix):
            path = path[len(prefix) :]
            break
    peer = read_source(path, specs.PEER_PUBLIC_KEY_MAX, "the peer's public key")
    result = obj.call(
        "DeriveSharedSecret",
        {"KeyId": key_id, "PublicKey": peer, "KeyAgreementAlgorithm": key_agreement_algorithm},
        aws,
    )
    deliver(obj, result, "SharedSecret", out_path)
