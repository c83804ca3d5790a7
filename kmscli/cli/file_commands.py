"""encrypt-file, decrypt-file: files of any size, streamed (docs/file-format.md)."""

from __future__ import annotations

import click

from ..service import files
from .io import read_public_key_file
from .options import checked_output, encryption_context_option, key_id_option, parse_pairs
from .render import progress_bar
from .stream_io import check_paths, open_input, output

in_required = click.option(
    "--in", "in_path", metavar="FILE", required=True, help="Read the input from FILE (- for standard input)."
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar, even on a terminal.")


def _out_option(what: str):
    return click.option(
        "--out",
        "out_path",
        metavar="FILE",
        required=True,
        callback=checked_output,
        help=f"Write the {what} to FILE, which appears only when the command succeeded "
        "(- for standard output: then nothing else is printed).",
    )


def _finish(obj, result: dict, out_path: str) -> None:
    if out_path != "-":
        from .render import emit

        emit(result, output=obj.output, query=obj.query)


@click.command("encrypt-file")
@key_id_option(required=False, help_="The KMS key: symmetric, or RSA ENCRYPT_DECRYPT (alias/NAME, ARN, id).")
@click.option(
    "--public-key",
    "public_key_path",
    metavar="FILE",
    help="Encrypt to the RSA ENCRYPT_DECRYPT key in FILE (from get-public-key --out): no keyring needed.",
)
@in_required
@_out_option("encrypted file")
@encryption_context_option()
@quiet_option
@click.pass_obj
def encrypt_file(obj, key_id, public_key_path, in_path, out_path, encryption_context, quiet):
    """Encrypt a file of any size under a KMS key (envelope encryption, streamed).

    A fresh data key per file is wrapped by the KMS key (a symmetric key, with the optional
    encryption context, or an RSA key with RSAES_OAEP_SHA_256) and the data is sealed in
    authenticated 1 MiB chunks, in constant memory. The file names its key, so decrypt-file
    needs no --key-id. With --public-key, anyone holding the exported public key can encrypt
    a file that only the keyring can open; no keyring or passphrase is needed.

    \b
    Example:
      kmscli encrypt-file --key-id alias/backups --in db.tar --out db.tar.kms \\
          --encryption-context purpose=backup
      kmscli encrypt-file --public-key backups.pem --in db.tar --out db.tar.kms
    """
    if (key_id is None) == (public_key_path is None):
        raise click.UsageError("give exactly one of --key-id and --public-key")
    check_paths(in_path, out_path)
    context = parse_pairs(encryption_context, "--encryption-context")
    pem = read_public_key_file(public_key_path) if public_key_path else None
    with open_input(in_path) as (source, size), progress_bar(size, "encrypting", quiet=quiet) as advance:
        with output(out_path, binary=True, background=True) as out:
            streaming = {"encryption_context": context, "progress": advance, "held_views": out.held_views}
            if pem is not None:
                result = files.encrypt_file_for_public_key(pem, source, out.write, **streaming)
            else:
                result = files.encrypt_file(obj.backend, key_id, source, out.write, **streaming)
    _finish(obj, result, out_path)


@click.command("decrypt-file")
@key_id_option(required=False, help_="The key the file must be encrypted under (optional: the file names its key).")
@in_required
@_out_option("decrypted data")
@encryption_context_option()
@quiet_option
@click.pass_obj
def decrypt_file(obj, key_id, in_path, out_path, encryption_context, quiet):
    """Decrypt a file that encrypt-file wrote, checking every chunk and the whole.

    With --out FILE, FILE appears only once the whole input authenticated; on any failure
    nothing is written. With --out -, each chunk goes to standard output once it
    authenticated: a truncated or damaged input stops the output early and the command
    fails, so a pipeline must check the exit status (set -o pipefail).

    \b
    Example:
      kmscli decrypt-file --in db.tar.kms --out db.tar --encryption-context purpose=backup
      kmscli decrypt-file --in db.tar.kms --out - | tar -x
    """
    check_paths(in_path, out_path)
    context = parse_pairs(encryption_context, "--encryption-context")
    with open_input(in_path) as (source, size), progress_bar(size, "decrypting", quiet=quiet) as advance:
        with output(out_path, binary=False, background=True) as out:
            result = files.decrypt_file(
                obj.backend,
                source,
                out.write,
                key_id=key_id,
                encryption_context=context,
                progress=advance,
                held_views=out.held_views,
            )
    _finish(obj, result, out_path)
