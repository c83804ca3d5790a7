"""GenerateMac and VerifyMac for HMAC keys."""

from __future__ import annotations

from .. import specs
from ..crypto import mac as hmac
from ..errors import KMSInvalidMacException, ValidationException
from ..keyring import Keyring
from .keys import check_algorithm, material, usable_key
from .request import takes


def _mac_key(keyring: Keyring, key_id: str, mac_algorithm: str, message: bytes, operation: str):
    doc = usable_key(keyring, key_id, specs.GENERATE_VERIFY_MAC, operation)
    check_algorithm(doc["metadata"], mac_algorithm, "MacAlgorithm")
    if not 1 <= len(message) <= specs.MESSAGE_MAX:
        raise ValidationException(f"Message must be 1 to {specs.MESSAGE_MAX} bytes")
    return doc, mac_algorithm.removeprefix("HMAC_")


@takes("GenerateMac", "GrantTokens", "DryRun")
def generate_mac(keyring: Keyring, key_id: str, message: bytes, *, mac_algorithm: str) -> dict:
    doc, hash_name = _mac_key(keyring, key_id, mac_algorithm, message, "GenerateMac")
    return {
        "Mac": hmac.hmac_sha(hash_name, material(keyring, doc), message),
        "MacAlgorithm": mac_algorithm,
        "KeyId": keyring.key_arn(doc["metadata"]["KeyId"]),
    }


@takes("VerifyMac", "GrantTokens", "DryRun")
def verify_mac(keyring: Keyring, key_id: str, message: bytes, mac: bytes, *, mac_algorithm: str) -> dict:
    """MacValid true, or KMSInvalidMacException (exit status 1). Constant-time."""
    doc, hash_name = _mac_key(keyring, key_id, mac_algorithm, message, "VerifyMac")
    if not 1 <= len(mac) <= specs.MAC_MAX:
        raise ValidationException(f"Mac must be 1 to {specs.MAC_MAX} bytes")
    if not hmac.hmac_verify(hash_name, material(keyring, doc), message, mac):
        raise KMSInvalidMacException("the MAC is not valid for this message and key")
    return {
        "KeyId": keyring.key_arn(doc["metadata"]["KeyId"]),
        "MacValid": True,
        "MacAlgorithm": mac_algorithm,
    }
