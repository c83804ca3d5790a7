"""The three PKCS #8 forms of an ML-DSA private key, reduced to the one kmscli stores.

RFC 9881 (ML-DSA in X.509) lets privateKey hold a CHOICE:

    seed         [0] IMPLICIT OCTET STRING (SIZE (32))       what cryptography reads and writes
    expandedKey  OCTET STRING (SIZE (2560 | 4032 | 4896))    (rho, K, tr, s1, s2, t0) of FIPS 204
    both         SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING }

cryptography loads only the seed form. ``seed_form`` turns "both" into the seed form once
its expanded key is shown to belong to the seed (its rho and tr, which bind the whole
public key, are those of the key the seed makes); an expanded key alone holds no seed and
cannot be turned back into one, so it is refused with ExpandedOnly. The DER read here is
the few fixed-shape elements above, read strictly (definite lengths, nothing left over).
"""

from __future__ import annotations

from . import CryptoFailure

# OID 2.16.840.1.101.3.4.3.{17,18,19}: id-ml-dsa-44, -65, -87 (DER of the OID's content).
OIDS = {
    bytes.fromhex("608648016503040311"): "ML_DSA_44",
    bytes.fromhex("608648016503040312"): "ML_DSA_65",
    bytes.fromhex("608648016503040313"): "ML_DSA_87",
}
EXPANDED_SIZES = {"ML_DSA_44": 2560, "ML_DSA_65": 4032, "ML_DSA_87": 4896}
SEED_SIZE = 32


class ExpandedOnly(CryptoFailure):
    """An expanded-only ML-DSA private key: valid in form, but kmscli keeps seeds."""


def _tlv(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, content, end) of the DER element at ``at``."""
    if at + 2 > len(data):
        raise CryptoFailure()
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        length = first
    elif first in (0x81, 0x82):
        count = first - 0x80
        if at + count > len(data):
            raise CryptoFailure()
        length = int.from_bytes(data[at : at + count], "big")
        if length < (0x80 if count == 1 else 0x100):
            raise CryptoFailure()  # not the shortest length: not DER
        at += count
    else:
        raise CryptoFailure()
    if at + length > len(data):
        raise CryptoFailure()
    return tag, data[at : at + length], at + length


def parse(der: bytes) -> tuple[str, str, bytes, bytes | None] | None:
    """(spec, form, seed or b"", expanded or None) of an ML-DSA PKCS #8, or None when
    ``der`` is no ML-DSA PKCS #8 at all (another key type: not for this module)."""
    try:
        tag, body, end = _tlv(der, 0)
        if tag != 0x30 or end != len(der):
            return None
        tag, version, at = _tlv(body, 0)
        tag2, alg, at = _tlv(body, at)
        if tag != 0x02 or version != b"\x00" or tag2 != 0x30:
            return None
        oid_tag, oid, alg_end = _tlv(alg, 0)
        spec = OIDS.get(oid) if oid_tag == 0x06 and alg_end == len(alg) else None
        if spec is None:
            return None
        tag, private, at = _tlv(body, at)
        if tag != 0x04 or at != len(body):
            raise CryptoFailure()  # attributes or a public key beside it: not a form we take
        tag, content, end = _tlv(private, 0)
        if end != len(private):
            raise CryptoFailure()
    except CryptoFailure:
        raise
    except (IndexError, ValueError):
        raise CryptoFailure() from None
    expanded_size = EXPANDED_SIZES[spec]
    if tag == 0x80 and len(content) == SEED_SIZE:
        return spec, "seed", content, None
    if tag == 0x04 and len(content) == expanded_size:
        return spec, "expanded", b"", content
    if tag == 0x30:
        t1, seed, at = _tlv(content, 0)
        t2, expanded, at = _tlv(content, at)
        if t1 == 0x04 and t2 == 0x04 and at == len(content) and len(seed) == SEED_SIZE and len(expanded) == expanded_size:
            return spec, "both", seed, expanded
    raise CryptoFailure()


def seed_form(der: bytes) -> bytes:
    """``der`` as the seed-form PKCS #8 (unchanged when it is one, or not ML-DSA at all);
    CryptoFailure for a malformed or inconsistent one, ExpandedOnly for an expanded key."""
    parsed = parse(der)
    if parsed is None:
        return der
    spec, form, seed, expanded = parsed
    if form == "expanded":
        raise ExpandedOnly()
    from cryptography.hazmat.primitives import hashes, serialization

    from .asymmetric import mldsa_classes

    private_class, _ = mldsa_classes()[spec]
    key = private_class.from_seed_bytes(seed)
    if form == "both":
        public = key.public_key().public_bytes_raw()
        shake = hashes.Hash(hashes.SHAKE256(64))
        shake.update(public)
        # rho (the public seed) and tr = H(pk, 64): the expanded key is this seed's key.
        if expanded[:32] != public[:32] or expanded[64:128] != shake.finalize():
            raise CryptoFailure()
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
