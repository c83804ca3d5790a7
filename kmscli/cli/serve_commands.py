"""serve: the keyring as an AWS KMS endpoint."""

from __future__ import annotations

import click

from ..errors import ValidationException
from .render import emit_line


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; other than loopback only with --tls-cert and --tls-key.")
@click.option("--port", type=int, default=9567, show_default=True, help="Port to listen on; 0 picks a free one.")
@click.option("--tls-cert", type=click.Path(dir_okay=False), help="PEM certificate (chain) to serve HTTPS with.")
@click.option("--tls-key", type=click.Path(dir_okay=False), help="PEM private key of --tls-cert.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="How the one line per request on standard error is written.")
@click.pass_obj
def serve(obj, host, port, tls_cert, tls_key, log_format):
    """Serve the keyring as an AWS KMS endpoint for SDKs and tools (JSON 1.1 protocol).

    Unlocks the keyring once (session, passphrase file, KMSCLI_PASSPHRASE or prompt) and
    keeps the master key in this process only. Every request must be signed (SigV4) with an
    access key from `kmscli create-access-key`, scoped to the keyring's region. When it
    listens it prints one JSON line, {"Endpoint": URL, "Region": REGION}. SIGTERM or Ctrl-C
    lets the requests in flight finish, then exits 0. One line per request goes to standard
    error (never a secret). See docs/serve.md.

    \b
    Example:
      kmscli serve --port 9567 &
      AWS_ENDPOINT_URL_KMS=http://127.0.0.1:9567 AWS_REGION=local aws kms list-keys
    """
    from ..serve import server

    if log_format not in ("text", "json"):
        raise ValidationException("--log-format must be text or json")
    server.check_listen_options(host, port, tls_cert, tls_key)  # bad options fail before the passphrase
    keyring = obj.open_keyring()
    keyring.master_key  # unlock now, once: a prompt belongs before listening, not in a request
    from ..serve.app import KmsApp
    from ..serve.log import RequestLog

    log = RequestLog(log_format)
    app = KmsApp(keyring, log=log)

    server.serve(
        app, host, port, tls_cert=tls_cert, tls_key=tls_key, log=log,
        on_listening=lambda url: emit_line({"Endpoint": url, "Region": keyring.region}),
    )
