"""Asymmetric key pairs: generation, public keys, signatures and RSA-OAEP.

Private keys travel as PKCS #8 DER bytes and public keys as DER SubjectPublicKeyInfo, so
that the keyring stores plain bytes and nothing outside this package sees a key object.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from ..specs import KeySpec, SigningAlgorithm
from . import CryptoFailure
from .hashing import hash_algorithm


def _serialization():
    from cryptography.hazmat.primitives import serialization

    return serialization


def mldsa_classes() -> dict[str, tuple[type, type]]:
    """The (private, public) key classes of each ML-DSA key spec (imported when first asked)."""
    from cryptography.hazmat.primitives.asymmetric import mldsa

    return {
        "ML_DSA_44": (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey),
        "ML_DSA_65": (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey),
        "ML_DSA_87": (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey),
    }


def generate_private_key(spec: KeySpec) -> bytes:
    """A new private key for ``spec`` as PKCS #8 DER."""
    if spec.family == "RSA":
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=spec.size)
    elif spec.family == "ECC":
        from cryptography.hazmat.primitives.asymmetric import ec

        curves = {
            "secp256r1": ec.SECP256R1,
            "secp384r1": ec.SECP384R1,
            "secp521r1": ec.SECP521R1,
            "secp256k1": ec.SECP256K1,
        }
        key = ec.generate_private_key(curves[spec.curve]())
    elif spec.family == "ED25519":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        key = ed25519.Ed25519PrivateKey.generate()
    elif spec.family == "ML_DSA":
        private_class, _ = mldsa_classes()[spec.name]
        key = private_class.generate()
    else:  # pragma: no cover - the catalogue and the service prevent this
        raise ValueError(f"not an asymmetric key spec: {spec.name}")
    s = _serialization()
    return key.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())


def _key_loader(name: str):
    """cryptography's ``serialization.<name>`` (``load_der_private_key``, ...). Every sign,
    verify and asymmetric decrypt loads a key, and importing the serialization package brings
    its SSH key code along (bcrypt, dataclasses, random: ~25M instructions, a tenth of the
    start-up floor); the functions themselves are the ones serialization.base re-exports from
    cryptography's bindings, taken from there (tests/test_startup.py checks that they are the
    same objects)."""
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl

        return getattr(rust_openssl.keys, name)
    except (ImportError, AttributeError):  # another layout of cryptography: the public way
        return getattr(_serialization(), name)


def _der_private_key_loader():
    return _key_loader("load_der_private_key")


def load_private_key(der: bytes):
    try:
        return _der_private_key_loader()(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CryptoFailure() from None


def public_key_der(private_der: bytes) -> bytes:
    s = _serialization()
    return (
        load_private_key(private_der)
        .public_key()
        .public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
    )


def load_public_key(data: bytes):
    """A public key from DER or PEM SubjectPublicKeyInfo (text before a PEM's BEGIN is skipped)."""
    try:
        if b"-----BEGIN" in data:
            return _key_loader("load_pem_public_key")(data[data.index(b"-----BEGIN") :])
        return _key_loader("load_der_public_key")(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CryptoFailure() from None


def public_key_matches_spec(public_key, spec: KeySpec) -> bool:
    """Whether a loaded public key is of the type and size ``spec`` names."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if spec.family == "RSA":
        return isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == spec.size
    if spec.family == "ECC":
        return isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name == spec.curve
    if spec.family == "ED25519":
        return isinstance(public_key, ed25519.Ed25519PublicKey)
    if spec.family == "ML_DSA":
        _, public_class = mldsa_classes()[spec.name]
        return isinstance(public_key, public_class)
    return False


# --- signatures --------------------------------------------------------------------------------


_ECDSA_CLASS = None


def ecdsa(hash_):
    """``ec.ECDSA(hash_)``, randomized (as AWS KMS signs), without the import it costs.

    cryptography's ``ECDSA.__init__`` imports its OpenSSL backend module (with the RSA and
    padding modules, ``random`` and the cffi binding: ~12M instructions, ~3 ms of every ECDSA
    sign and verify) only to ask whether deterministic signing (RFC 6979) is supported, which
    a randomized signature never uses. A subclass sets the same state without asking; the
    library checks ``isinstance(..., ECDSA)`` and reads the public properties. Should a
    release of cryptography keep that state elsewhere, the properties tell, and the public
    class is used (tests/test_startup.py compares the two)."""
    global _ECDSA_CLASS
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        if _ECDSA_CLASS is None:

            class _RandomizedECDSA(ec.ECDSA):
                def __init__(self, algorithm):
                    self._algorithm = algorithm
                    self._deterministic_signing = False

            _ECDSA_CLASS = _RandomizedECDSA
        signature_algorithm = _ECDSA_CLASS(hash_)
        if signature_algorithm.algorithm is hash_ and signature_algorithm.deterministic_signing is False:
            return signature_algorithm
    except (AttributeError, TypeError):  # a subclass this release does not allow, or its state elsewhere
        pass
    return ec.ECDSA(hash_)


def _rsa_padding(algorithm: SigningAlgorithm):
    from cryptography.hazmat.primitives.asymmetric import padding

    if algorithm.scheme == "PSS":
        # AWS KMS uses a salt as long as the digest (openssl: rsa_pss_saltlen:-1).
        return padding.PSS(
            mgf=padding.MGF1(hash_algorithm(algorithm.hash)), salt_length=padding.PSS.DIGEST_LENGTH
        )
    return padding.PKCS1v15()


def _prehashed(algorithm: SigningAlgorithm):
    from cryptography.hazmat.primitives.asymmetric import utils

    return utils.Prehashed(hash_algorithm(algorithm.hash))


def sign_digest(private_der: bytes, algorithm: SigningAlgorithm, digest: bytes) -> bytes:
    """Sign a digest that the caller computed (MessageType DIGEST, or a streamed file).

    The digest is signed as is, never hashed again, so the signature verifies over the
    original message with ordinary tools."""
    key = load_private_key(private_der)
    if algorithm.scheme in ("PSS", "PKCS1_V1_5"):
        return key.sign(digest, _rsa_padding(algorithm), _prehashed(algorithm))
    if algorithm.scheme == "ECDSA":
        return key.sign(digest, ecdsa(_prehashed(algorithm)))
    if algorithm.scheme == "ED25519_PH":
        # AWS hashes the caller's digest once more: Ed25519ph(SHA-512(digest)), see ed25519ph.
        from . import ed25519ph

        try:
            return ed25519ph.sign(key, digest)
        except ed25519ph.Ed25519phUnavailable:
            raise _no_ed25519ph() from None
    raise UnsupportedDigestSigning(algorithm.name)


def sign_mu(private_der: bytes, mu: bytes) -> bytes:
    """ML-DSA over an externally computed 64-byte message representative mu (FIPS 204 §6.2,
    MessageType EXTERNAL_MU); mu already binds the public key and the (empty) context."""
    key = load_private_key(private_der)
    if not hasattr(key, "sign_mu"):
        raise UnsupportedDigestSigning("EXTERNAL_MU is offered only for ML-DSA keys")
    return key.sign_mu(mu)


def sign_raw(private_der: bytes, algorithm: SigningAlgorithm, message: bytes) -> bytes:
    """Sign a whole message; hash-then-sign schemes hash it with the algorithm's hash."""
    key = load_private_key(private_der)
    if algorithm.scheme in ("ED25519", "ML_DSA"):
        return key.sign(message)
    if algorithm.scheme in ("PSS", "PKCS1_V1_5"):
        return key.sign(message, _rsa_padding(algorithm), hash_algorithm(algorithm.hash))
    if algorithm.scheme == "ECDSA":
        return key.sign(message, ecdsa(hash_algorithm(algorithm.hash)))
    raise UnsupportedDigestSigning(algorithm.name)


def verify(public_key, algorithm: SigningAlgorithm, data: bytes, signature: bytes, *, prehashed: bool) -> bool:
    """True when ``signature`` is valid over ``data`` (a digest when ``prehashed``)."""
    try:
        if algorithm.scheme == "ED25519_PH":
            from . import ed25519ph

            try:
                return ed25519ph.verify(public_key.public_bytes_raw(), data, signature)
            except ed25519ph.Ed25519phUnavailable:
                raise _no_ed25519ph() from None
        if algorithm.scheme == "ML_DSA" and prehashed:
            public_key.verify_mu(signature, data)  # data is the 64-byte mu (EXTERNAL_MU)
        elif algorithm.scheme in ("ED25519", "ML_DSA"):
            public_key.verify(signature, data)
        else:
            hash_ = _prehashed(algorithm) if prehashed else hash_algorithm(algorithm.hash)
            if algorithm.scheme == "ECDSA":
                public_key.verify(signature, data, ecdsa(hash_))
            else:
                public_key.verify(signature, data, _rsa_padding(algorithm), hash_)
    except (InvalidSignature, ValueError, TypeError):
        # A malformed DER signature raises ValueError in some backends: it is a "no" too.
        return False
    return True


class UnsupportedDigestSigning(Exception):
    """The scheme has no digest path here; the message (when given) says why."""


def _no_ed25519ph() -> UnsupportedDigestSigning:
    return UnsupportedDigestSigning(
        "ED25519_PH_SHA_512 needs PyNaCl (libsodium): the cryptography library has no "
        "Ed25519ph; install it with: pip install pynacl"
    )


# --- private keys given by a user (imported key material) ------------------------------------


def normalize_private_key(der: bytes, spec: KeySpec) -> bytes:
    """The PKCS #8 DER that kmscli stores for a user's private key of ``spec``, re-encoded
    by the library (one spelling per key), or CryptoFailure when it is not such a key.
    An ML-DSA key may come in any of its PKCS #8 forms (mldsa_pkcs8): it is kept as its seed."""
    if spec.family == "ML_DSA":
        from .mldsa_pkcs8 import seed_form

        der = seed_form(der)
    key = load_private_key(der)
    if not public_key_matches_spec(key.public_key(), spec):
        raise CryptoFailure()
    s = _serialization()
    return key.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())


# --- RSA-OAEP ----------------------------------------------------------------------------------


def _oaep(hash_name: str):
    from cryptography.hazmat.primitives.asymmetric import padding

    h = hash_algorithm(hash_name)
    return padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None)


def rsa_encrypt(public_key, hash_name: str, plaintext: bytes) -> bytes:
    return public_key.encrypt(plaintext, _oaep(hash_name))


def rsa_decrypt(private_der: bytes, hash_name: str, ciphertext: bytes) -> bytes:
    key = load_private_key(private_der)
    try:
        return key.decrypt(ciphertext, _oaep(hash_name))
    except ValueError:
        raise CryptoFailure() from None
