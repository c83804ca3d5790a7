"""Bytes in and bytes out: literals, base64 blobs, files and pipes, as the contract says."""

from __future__ import annotations

import sys

import click

from ..encoding import b64decode_strict
from ..errors import FileAccessException, ValidationException

FILEB = "fileb://"
FILE = "file://"
# An exported public key (PEM with its configuration) is a few KiB; this only bounds memory.
PUBLIC_KEY_FILE_MAX = 64 << 10


def read_source(path: str, limit: int, what: str, *, too_large_hint=None) -> bytes:
    """At most ``limit`` bytes of ``path`` (``-`` is stdin): reads limit+1 and refuses more,
    so memory stays bounded even for /dev/zero. ``too_large_hint``, a string or a function
    of the bytes read, is the next step when there are more."""
    try:
        if path == "-":
            from .stream_io import claim_stdin

            claim_stdin(what)
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(limit + 1)
    except OSError as e:
        raise FileAccessException(f"cannot read {what} from {path}: {e.strerror}") from None
    if len(data) > limit:
        hint = too_large_hint(data) if callable(too_large_hint) else too_large_hint
        raise ValidationException(f"{what} is larger than {limit} bytes", hint=hint)
    return data


def read_public_key_file(path: str) -> bytes:
    """The public key file of verify --public-key and encrypt-file --public-key."""
    return read_source(path, PUBLIC_KEY_FILE_MAX, "the public key file")


def decode_base64(text: str, what: str) -> bytes:
    """Strict base64 once whitespace is removed (a pasted blob may be wrapped)."""
    return b64decode_strict("".join(text.split()), what, error=ValidationException)


def _missing_or_both(message: str, missing: bool, file_option: str):
    """Raise the usage error for data given twice or not at all. Not at all while standard
    input carries data (`echo hi | kmscli encrypt --key-id K`): the hint says to read it."""
    if missing:
        from .suggest import piped_hint  # only on the way to the error

        hint = piped_hint(file_option)
        if hint:
            raise ValidationException(message, hint=hint)
    raise click.UsageError(message)


def binary_format() -> str:
    """--cli-binary-format of this run (aws-cli v2's setting; kmscli's default is
    raw-in-base64-out, aws-cli v1's behaviour and what people type)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(object) if ctx is not None else None
    return getattr(obj, "cli_binary_format", "raw-in-base64-out")


def data_in(
    *, text: str | None, path: str | None, limit: int, what: str, option: str, too_large_hint: str | None = None
) -> bytes:
    """A literal or a file; exactly one of them. As aws-cli: fileb://PATH is the file's bytes;
    file://PATH its contents, which --cli-binary-format base64 reads as base64, as it reads
    a literal; otherwise a literal is its UTF-8 bytes. ``too_large_hint`` is the next step
    for more than ``limit`` bytes, when there is one."""
    if (text is None) == (path is None):
        _missing_or_both(f"give exactly one of {option} and --in", text is None, "--in")
    if path is not None:
        return read_source(path, limit, what, too_large_hint=too_large_hint)
    if text.startswith(FILEB):
        return read_source(text[len(FILEB) :], limit, what, too_large_hint=too_large_hint)
    as_base64 = binary_format() == "base64"
    if text.startswith(FILE):
        if not as_base64:
            return read_source(text[len(FILE) :], limit, what, too_large_hint=too_large_hint)
        text = read_source(text[len(FILE) :], 2 * limit + 16, what).decode("ascii", "replace")
    if as_base64:
        if len(text) > 2 * limit + 16:
            raise ValidationException(f"{what} is larger than {limit} bytes", hint=too_large_hint)
        data = decode_base64(text, f"{what} ({option} is base64 with --cli-binary-format base64)")
        if len(data) > limit:
            raise ValidationException(f"{what} is larger than {limit} bytes", hint=too_large_hint)
        return data
    data = text.encode("utf-8")
    if len(data) > limit:
        raise ValidationException(f"{what} is larger than {limit} bytes", hint=too_large_hint)
    return data


def blob_in(
    *, b64: str | None, path: str | None, limit: int, what: str, option: str, file_option: str, too_large_hint=None
) -> bytes:
    """A base64 value (or fileb://PATH or file://PATH) or a raw file; exactly one of them.
    file://PATH is the file's bytes, as aws-cli v1 reads it for a blob; with
    --cli-binary-format base64 the file holds base64, as aws-cli v2 reads it then."""
    if (b64 is None) == (path is None):
        _missing_or_both(f"give exactly one of {option} and {file_option}", b64 is None, file_option)
    if path is not None:
        return read_source(path, limit, what, too_large_hint=too_large_hint)
    if b64.startswith(FILEB):
        return read_source(b64[len(FILEB) :], limit, what, too_large_hint=too_large_hint)
    if b64.startswith(FILE):
        if binary_format() != "base64":
            return read_source(b64[len(FILE) :], limit, what, too_large_hint=too_large_hint)
        b64 = read_source(b64[len(FILE) :], 2 * limit + 16, what).decode("ascii", "replace")
    if len(b64) > 2 * limit + 16:
        raise ValidationException(f"{what} is larger than {limit} bytes")
    return decode_base64(b64, what)


def ciphertext_in(b64: str | None, path: str | None) -> bytes:
    """A ciphertext blob from --ciphertext-blob (base64 or fileb://) or --in (raw)."""
    from .. import specs

    return blob_in(
        b64=b64,
        path=path,
        limit=specs.CIPHERTEXT_BLOB_MAX,
        what="the ciphertext",
        option="--ciphertext-blob",
        file_option="--in",
        too_large_hint=streamed_file_hint,
    )


def streamed_file_hint(data: bytes) -> str | None:
    """decrypt (or re-encrypt) given what encrypt-file wrote: the command that reads it.
    The magic is the file's public first field, so saying so tells nothing secret."""
    from ..service.fileformat import MAGIC  # only on the way to an error

    if data.startswith(MAGIC):
        return "this file was made by encrypt-file; decrypt it with: kmscli decrypt-file --in FILE --out FILE"
    return None


def write_output(path: str, data: bytes, *, source: str | None = None, may_be_text: bool = False) -> None:
    """Write raw bytes to ``path``: ``-`` is stdout (binary refused on a terminal); a named
    path is replaced atomically by a private new file, so a failed command leaves no partial
    output, and a FIFO, device or socket there is refused. The same writer as encrypt-file's
    (stream_io).

    ``may_be_text``: the bytes are the user's own (a decrypted plaintext) or text by
    construction (a PEM), so printable UTF-8 may reach a terminal. Everything else (random
    bytes, data keys, signatures, MACs, ciphertexts, shared secrets) is binary whatever its
    bytes happen to be: a random value must not print one time in many and be refused the
    next, and a secret is never shown on a screen by chance."""
    from .stream_io import SAME_FILE_HINT, is_text, output, same_file  # only commands given --out pay for it

    if path != "-" and source and source != "-" and same_file(source, path):
        raise ValidationException(f"--out {path} is the input file; choose another output path", hint=SAME_FILE_HINT)
    with output(path, binary=not (may_be_text and is_text(data))) as out:
        out.write(data)


def deliver(
    obj, result: dict, field: str, out_path: str | None, *, source: str | None = None, may_be_text: bool = False
) -> None:
    """Print ``result``; with --out, its ``field`` goes raw to the file instead.

    ``--out -`` writes only the raw bytes to stdout; ``--out FILE`` writes them to FILE and
    still prints the rest of the result."""
    from .render import emit

    if out_path is None:
        emit(result, output=obj.output, query=obj.query)
        return
    write_output(out_path, result[field], source=source, may_be_text=may_be_text)
    if out_path != "-":
        emit({k: v for k, v in result.items() if k != field}, output=obj.output, query=obj.query)
