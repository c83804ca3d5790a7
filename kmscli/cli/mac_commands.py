"""generate-mac, verify-mac."""

from __future__ import annotations

import click

from .. import specs
from .members import aws_members
from .io import blob_in, data_in, deliver
from .options import choice, in_option, key_id_option, out_option
from .render import emit

mac_algorithm_option = click.option("--mac-algorithm", type=choice(specs.MAC_ALGORITHMS), required=True)
message_option = click.option("--message", metavar="TEXT", help="The message: the UTF-8 bytes of TEXT (base64 with --cli-binary-format base64), or the bytes of file://PATH or fileb://PATH.")


@click.command("generate-mac")
@aws_members("GenerateMac")
@key_id_option()
@message_option
@in_option("Read the message from FILE (- for standard input).")
@mac_algorithm_option
@out_option("MAC")
@click.pass_obj
def generate_mac(obj, key_id, message, in_path, mac_algorithm, out_path, **aws):
    """Compute an HMAC of up to 4096 bytes with an HMAC key.

    \b
    Example:
      kmscli generate-mac --key-id alias/tokens --message hello --mac-algorithm HMAC_SHA_256
    """
    data = data_in(text=message, path=in_path, limit=specs.MESSAGE_MAX, what="the message", option="--message")
    result = obj.call("GenerateMac", {"KeyId": key_id, "Message": data, "MacAlgorithm": mac_algorithm}, aws)
    deliver(obj, result, "Mac", out_path, source=in_path)


@click.command("verify-mac")
@aws_members("VerifyMac")
@key_id_option()
@message_option
@in_option("Read the message from FILE (- for standard input).")
@mac_algorithm_option
@click.option("--mac", "mac_b64", metavar="BASE64", help="The MAC, base64 (or fileb://PATH).")
@click.option("--mac-file", metavar="FILE", help="Read the raw MAC from FILE.")
@click.pass_obj
def verify_mac(obj, key_id, message, in_path, mac_algorithm, mac_b64, mac_file, **aws):
    """Check an HMAC in constant time. Exit status 1 when it does not match.

    \b
    Example:
      kmscli verify-mac --key-id alias/tokens --message hello \\
          --mac-algorithm HMAC_SHA_256 --mac-file hello.mac
    """
    data = data_in(text=message, path=in_path, limit=specs.MESSAGE_MAX, what="the message", option="--message")
    tag = blob_in(b64=mac_b64, path=mac_file, limit=specs.MAC_MAX, what="the MAC", option="--mac", file_option="--mac-file")
    result = obj.call("VerifyMac", {"KeyId": key_id, "Message": data, "Mac": tag, "MacAlgorithm": mac_algorithm}, aws)
    emit(result, output=obj.output, query=obj.query)
