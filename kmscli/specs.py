"""The catalogue: key specs, usages, algorithms, sizes and limits, as AWS KMS defines them.

One table that validation, ``--help`` choices, completions and docs are all generated from.
Stored names are never renamed: they are written into keyrings and ciphertexts.
"""

from __future__ import annotations

from collections import namedtuple

# Records are plain classes with slots, or collections.namedtuple where a tuple is wanted
# (ListLimit): typing.NamedTuple compiles every field's annotation at import, and each class
# costs start-up (a named tuple ~0.8M instructions, bench/startup.sh; tests/test_startup.py).

# --- key usages and the result field that lists each usage's algorithms ----------------

ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SIGN_VERIFY = "SIGN_VERIFY"
GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
KEY_AGREEMENT = "KEY_AGREEMENT"

KEY_USAGES = (ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT)

ALGORITHM_FIELD = {
    ENCRYPT_DECRYPT: "EncryptionAlgorithms",
    SIGN_VERIFY: "SigningAlgorithms",
    GENERATE_VERIFY_MAC: "MacAlgorithms",
    KEY_AGREEMENT: "KeyAgreementAlgorithms",
}

ORIGINS = ("AWS_KMS", "EXTERNAL")

# --- algorithms ---------------------------------------------------------------------------

HASH_LENGTHS = {"SHA_1": 20, "SHA_224": 28, "SHA_256": 32, "SHA_384": 48, "SHA_512": 64}


class SigningAlgorithm:
    __slots__ = ("name", "scheme", "hash", "message_types")

    def __init__(self, name: str, scheme: str, hash: str | None, message_types: tuple[str, ...]):
        self.name = name
        self.scheme = scheme  # "PSS", "PKCS1_V1_5", "ECDSA", "ED25519", "ED25519_PH", "ML_DSA"
        self.hash = hash  # "SHA_256", ...; None where the scheme hashes internally
        self.message_types = message_types

    def __repr__(self) -> str:
        return f"SigningAlgorithm({self.name!r})"

    @property
    def digest_length(self) -> int | None:
        return HASH_LENGTHS[self.hash] if self.hash else None


def _sig(name, scheme, hash_, types=("RAW", "DIGEST")):
    return SigningAlgorithm(name, scheme, hash_, types)


SIGNING_ALGORITHMS = {
    a.name: a
    for a in (
        _sig("RSASSA_PSS_SHA_256", "PSS", "SHA_256"),
        _sig("RSASSA_PSS_SHA_384", "PSS", "SHA_384"),
        _sig("RSASSA_PSS_SHA_512", "PSS", "SHA_512"),
        _sig("RSASSA_PKCS1_V1_5_SHA_256", "PKCS1_V1_5", "SHA_256"),
        _sig("RSASSA_PKCS1_V1_5_SHA_384", "PKCS1_V1_5", "SHA_384"),
        _sig("RSASSA_PKCS1_V1_5_SHA_512", "PKCS1_V1_5", "SHA_512"),
        _sig("ECDSA_SHA_256", "ECDSA", "SHA_256"),
        _sig("ECDSA_SHA_384", "ECDSA", "SHA_384"),
        _sig("ECDSA_SHA_512", "ECDSA", "SHA_512"),
        _sig("ED25519_SHA_512", "ED25519", None, ("RAW",)),
        _sig("ED25519_PH_SHA_512", "ED25519_PH", "SHA_512", ("DIGEST",)),
        _sig("ML_DSA_SHAKE_256", "ML_DSA", None, ("RAW", "EXTERNAL_MU")),
    )
}

MESSAGE_TYPES = ("RAW", "DIGEST", "EXTERNAL_MU")

# RSAES_OAEP_*: the hash of OAEP and MGF1 both.
RSA_ENCRYPTION_HASHES = {"RSAES_OAEP_SHA_1": "SHA_1", "RSAES_OAEP_SHA_256": "SHA_256"}
SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
ENCRYPTION_ALGORITHMS = (SYMMETRIC_DEFAULT, *RSA_ENCRYPTION_HASHES)

MAC_ALGORITHMS = ("HMAC_SHA_224", "HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512")
KEY_AGREEMENT_ALGORITHMS = ("ECDH",)

# --- key specs ----------------------------------------------------------------------------


class KeySpec:
    __slots__ = ("name", "family", "algorithms", "size", "curve", "unsupported")

    def __init__(self, name, family, algorithms, size=None, curve=None, unsupported=None):
        self.name = name
        self.family = family  # "SYMMETRIC", "HMAC", "RSA", "ECC", "ED25519", "ML_DSA", "SM2"
        self.algorithms = algorithms  # dict[str, tuple[str, ...]]: usage -> algorithms; the first usage is the default
        self.size = size  # int | None: RSA modulus bits, HMAC key bytes
        self.curve = curve  # str | None: ECC curve name as cryptography spells it
        self.unsupported = unsupported  # str | None: why kmscli cannot offer this spec, if it cannot

    def __repr__(self) -> str:
        return f"KeySpec({self.name!r})"

    @property
    def usages(self) -> tuple[str, ...]:
        return tuple(self.algorithms)

    @property
    def default_usage(self) -> str:
        return self.usages[0]

    @property
    def asymmetric(self) -> bool:
        return self.family not in ("SYMMETRIC", "HMAC")


_RSA_SIGNING = tuple(n for n, a in SIGNING_ALGORITHMS.items() if a.scheme in ("PSS", "PKCS1_V1_5"))
_RSA_ENCRYPTION = tuple(RSA_ENCRYPTION_HASHES)


def _rsa(bits):
    return KeySpec(
        f"RSA_{bits}", "RSA", {ENCRYPT_DECRYPT: _RSA_ENCRYPTION, SIGN_VERIFY: _RSA_SIGNING}, size=bits
    )


def _hmac(bits):
    return KeySpec(
        f"HMAC_{bits}", "HMAC", {GENERATE_VERIFY_MAC: (f"HMAC_SHA_{bits}",)}, size=bits // 8
    )


def _nist(name, curve, ecdsa):
    return KeySpec(name, "ECC", {SIGN_VERIFY: (ecdsa,), KEY_AGREEMENT: ("ECDH",)}, curve=curve)


KEY_SPECS = {
    s.name: s
    for s in (
        KeySpec(SYMMETRIC_DEFAULT, "SYMMETRIC", {ENCRYPT_DECRYPT: (SYMMETRIC_DEFAULT,)}, size=32),
        _hmac(224),
        _hmac(256),
        _hmac(384),
        _hmac(512),
        _rsa(2048),
        _rsa(3072),
        _rsa(4096),
        _nist("ECC_NIST_P256", "secp256r1", "ECDSA_SHA_256"),
        _nist("ECC_NIST_P384", "secp384r1", "ECDSA_SHA_384"),
        _nist("ECC_NIST_P521", "secp521r1", "ECDSA_SHA_512"),
        KeySpec("ECC_SECG_P256K1", "ECC", {SIGN_VERIFY: ("ECDSA_SHA_256",)}, curve="secp256k1"),
        KeySpec(
            "ECC_NIST_EDWARDS25519",
            "ED25519",
            {SIGN_VERIFY: ("ED25519_SHA_512", "ED25519_PH_SHA_512")},
        ),
        KeySpec("ML_DSA_44", "ML_DSA", {SIGN_VERIFY: ("ML_DSA_SHAKE_256",)}),
        KeySpec("ML_DSA_65", "ML_DSA", {SIGN_VERIFY: ("ML_DSA_SHAKE_256",)}),
        KeySpec("ML_DSA_87", "ML_DSA", {SIGN_VERIFY: ("ML_DSA_SHAKE_256",)}),
        KeySpec(
            "SM2",
            "SM2",
            {SIGN_VERIFY: ("SM2DSA",), ENCRYPT_DECRYPT: ("SM2PKE",), KEY_AGREEMENT: ("ECDH",)},
            curve="sm2",
            unsupported="the cryptography library offers no SM2 (SM2DSA, SM2PKE)",
        ),
    )
}


def rsa_oaep_max_plaintext(spec: KeySpec, algorithm: str) -> int:
    """Largest plaintext RSAES-OAEP can take: k - 2*hLen - 2 (RFC 8017 §7.1.1)."""
    return spec.size // 8 - 2 * HASH_LENGTHS[RSA_ENCRYPTION_HASHES[algorithm]] - 2


# --- sizes and limits (kms-facts.md) ---------------------------------------------------------

SYMMETRIC_PLAINTEXT_MAX = 4096
CIPHERTEXT_BLOB_MAX = 6144
MESSAGE_MAX = 4096  # Sign/Verify RAW, GenerateMac/VerifyMac
SIGNATURE_MAX = 6144  # large enough for an ML-DSA-87 signature (4627 bytes)
MAC_MAX = 6144
RANDOM_BYTES_MAX = 1024
DATA_KEY_BYTES_MAX = 1024
DATA_KEY_SPECS = {"AES_128": 16, "AES_256": 32}
DATA_KEY_PAIR_SPECS = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "ECC_NIST_EDWARDS25519",
)
DESCRIPTION_MAX = 8192
TAGS_PER_KEY_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
ALIASES_PER_KEY_MAX = 50
ALIAS_NAME_MAX = 256
PENDING_WINDOW_DAYS = (7, 30)
PENDING_WINDOW_DEFAULT = 30
ROTATION_PERIOD_DAYS = (90, 2560)
ROTATION_PERIOD_DEFAULT = 365
ON_DEMAND_ROTATIONS_MAX = 25


class ListLimit(namedtuple("ListLimit", "low high default")):
    """A List operation's Limit: the range AWS accepts, and the page size when none is given."""

    __slots__ = ()


LIST_LIMITS = {
    "ListKeys": ListLimit(1, 1000, 100),
    "ListAliases": ListLimit(1, 100, 50),
    "ListResourceTags": ListLimit(1, 50, 50),
    "ListKeyRotations": ListLimit(1, 1000, 100),
    "ListKeyPolicies": ListLimit(1, 1000, 100),
}

# --- DeriveSharedSecret ------------------------------------------------------------------------

PEER_PUBLIC_KEY_MAX = 8192  # bytes of DER (or PEM) SubjectPublicKeyInfo

# --- importing key material (GetParametersForImport, ImportKeyMaterial) ------------------------

# Wrapping algorithm -> (OAEP hash, two-phase): two-phase = an AES-256 key under RSA-OAEP,
# then the material under that key with AES key wrap with padding (RFC 5649).
WRAPPING_ALGORITHMS = {
    "RSAES_OAEP_SHA_1": ("SHA_1", False),
    "RSAES_OAEP_SHA_256": ("SHA_256", False),
    "RSA_AES_KEY_WRAP_SHA_1": ("SHA_1", True),
    "RSA_AES_KEY_WRAP_SHA_256": ("SHA_256", True),
}
WRAPPING_KEY_SPECS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
IMPORT_PARAMETERS_VALID_SECONDS = 24 * 3600
IMPORT_TOKEN_MAX = 6144
ENCRYPTED_KEY_MATERIAL_MAX = 6144
EXPIRATION_MODELS = ("KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE")
IMPORT_VALID_TO_MAX_DAYS = 365
# Lengths of imported material, in bytes, per key spec (asymmetric: a PKCS #8 private key).
IMPORTED_HMAC_LENGTHS = {
    "HMAC_224": (28, 64),
    "HMAC_256": (32, 64),
    "HMAC_384": (48, 128),
    "HMAC_512": (64, 128),
}
IMPORTED_SYMMETRIC_LENGTH = 32
