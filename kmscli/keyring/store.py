"""The keyring on disk: master key, wrapped key material, integrity, locking.

Knows nothing of click or output. Metadata is stored in the clear beside the wrapped
material (the Tink keyset habit) so that ``list-keys`` and ``describe-key`` need no
passphrase; every document also carries an HMAC under a sub-key of the master key, checked
whenever the keyring is unlocked, so a file edited by hand is refused as damaged.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import TYPE_CHECKING
from contextlib import contextmanager
from pathlib import Path

from .. import crypto
from ..crypto import aead, kdf, mac
from ..errors import (
    AlreadyExistsException,
    IncorrectPassphraseException,
    KeyringDamagedException,
    KeyringLockedException,
    KeyringNotFoundException,
    KmsError,
    NotFoundException,
    ValidationException,
)
from . import format as fmt
from .fsutil import (
    atomic_write,
    check_private_dir,
    fsync_dir,
    make_parent_dirs,
    make_private_dir,
    read_file,
    remove_stale_temps,
)
# The indexes and the writer lock are imported where used: encrypt, decrypt and sign with a
# session read one key file and need neither (each module imported costs start-up).
if TYPE_CHECKING:
    from .alias_index import AliasIndex
    from .index import Index

_HEX = frozenset("0123456789abcdef")

# How many verified key documents a Keyring keeps (load_key): more than a server's working
# set of keys in any test or benchmark, a few MiB at most.
VERIFIED_KEYS_KEPT = 256

# Unlocker: returns the 32-byte master key, asking for a passphrase or reading a session.
Unlocker = Callable[["Keyring"], bytes]


def default_keyring_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(base):
        # The XDG spec: a relative path in these variables is invalid and is ignored (it
        # would put the keyring wherever the command happened to run).
        base = os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "kmscli" / "keyring"


# The hint of a wrong passphrase when nothing more is known (no rotation_interrupted); the
# CLI, which knows where the passphrase came from (a prompt), replaces it with one that
# speaks of that source.
WRONG_PASSPHRASE_HINT = "check KMSCLI_PASSPHRASE, the passphrase file, or the session"


def _keyring_exists(path: Path) -> AlreadyExistsException:
    # Not the generic "choose another name, or update the existing one": a keyring has no name.
    return AlreadyExistsException(
        f"a keyring already exists at {path}",
        hint="use it as it is, or create another one with: kmscli --keyring OTHER_DIR init",
    )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def is_key_id(text: str) -> bool:
    """A canonical, lower-case UUID (8-4-4-4-12 hex digits). Plain string checks, not a
    regular expression: compiling one costs every command ~0.5 ms of start-up."""
    # Called several times a request by `kmscli serve`: string methods, no per-character loop.
    return (
        isinstance(text, str)
        and len(text) == 36
        and text[8] == text[13] == text[18] == text[23] == "-"
        and _HEX.issuperset(text[:8] + text[9:13] + text[14:18] + text[19:23] + text[24:])
    )


def plain_copy(value):
    """A deep copy of a parsed TOML document (dicts, lists and immutable scalars): several
    times cheaper than copy.deepcopy, which the cache of load_key would otherwise pay."""
    if isinstance(value, dict):
        return {k: plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_copy(v) for v in value]
    return value


def master_key_id(master: bytes, keyring_id: str) -> str:
    """A master key's public name (16 hex digits, HKDF of the key): documents record which
    master key seals them, so a master-key rotation knows what is left to rewrap."""
    return kdf.hkdf_sha256(master, fmt.MASTER_KEY_ID_LABEL + keyring_id.encode(), 8).hex()


def _passphrase_check(wrapping_key: bytes) -> bytes:
    return mac.hmac_sha("SHA_256", wrapping_key, fmt.PASSPHRASE_CHECK_LABEL)


class Keyring:
    """An opened keyring directory. Unlocks lazily: only operations that need key material,
    or that write, ask the unlocker for the master key."""

    # Run under the writer lock at the start of every transaction, before its body. The
    # service layer registers its lifecycle sweep here (deletions and rotations that have
    # fallen due), so time-based changes happen at the next write whoever writes, while the
    # store itself knows nothing of key states.
    write_hooks: list[Callable[["Keyring"], None]] = []

    # When a key document has something scheduled (a deletion, an automatic rotation): an
    # ISO 8601 UTC instant, or None. Also the service layer's (the store knows no key
    # states); the index keeps these dates so that the sweep need not read every key file.
    # While it is unset, no index is built or kept (readers then list keys/ as before).
    due_date_of: Callable[[dict], str | None] | None = None
    # Byte strings one of which a key file that due_date_of can give a date for contains
    # (the field names it reads): a rebuild of the index parses only those files.
    due_markers: tuple[bytes, ...] | None = None

    def __init__(self, path: Path, doc: dict, *, unlocker: Unlocker | None = None, clock=utc_now):
        self.path = path
        self.doc = doc
        self.clock = clock
        self._unlocker = unlocker
        self._master: bytes | None = None
        self._stored_checksum: str | None = None  # keyring.toml's, as read; checked on unlock
        self._index: Index | None = None
        self._kept_index_stamp_due = False
        self._aliases_cache: tuple | None = None  # aliases.toml's (file stamp, parsed document, verified, bytes)
        self._alias_buckets: dict[str, tuple] = {}  # bucket -> (file stamp, parsed document, verified, bytes)
        self._alias_index: AliasIndex | None = None
        self._aliases_dir_checked = False
        # Key documents already verified: {key id: (the file's bytes, the master key that
        # verified them, the parsed document)}. load_key still reads the file every time and
        # uses an entry only when the bytes are the same, byte for byte: what it returns is
        # what parsing and verifying those bytes again would give, and any change (a key
        # disabled by another process a moment ago) is seen at once. A long-running
        # `kmscli serve` then pays a read, not a TOML parse and an HMAC, per request.
        self._verified_keys: dict[str, tuple[bytes, bytes, dict]] = {}
        # While a master-key rotation is unfinished (keyring.toml holds next_master_key):
        # the passphrase's wrapping key and the next master key, from master_from_passphrase.
        self._rotation: tuple[bytes, bytes] | None = None
        self._wrapping_key: bytes | None = None  # the passphrase's, once unlocked with it
        self._master_id: str | None = None
        # Documents read before the unlock, trusted for display only; checked at the unlock,
        # so a command that goes on to use key material never acts on what it resolved
        # through a hand-edited file (an alias in aliases.toml, a key's state).
        self._read_unverified: list[tuple[bytes, str]] = []

    # --- creation and opening --------------------------------------------------------------

    @staticmethod
    def refuse_existing(path: Path) -> None:
        """AlreadyExistsException when ``path`` holds a keyring: init checks it before it asks
        for a new passphrase (create checks again, and the exclusive write decides a race)."""
        if os.path.lexists(Path(path) / fmt.KEYRING_FILE):
            raise _keyring_exists(Path(path))

    @classmethod
    def create(
        cls,
        path: Path,
        passphrase: bytes,
        *,
        region: str = "local",
        account_id: str = "000000000000",
        scrypt_log2_n: int = fmt.SCRYPT_DEFAULT["log2_n"],
        clock=utc_now,
    ) -> "Keyring":
        import uuid

        path = Path(path)
        cls.refuse_existing(path)
        params = fmt.ScryptParams(
            scrypt_log2_n, fmt.SCRYPT_DEFAULT["r"], fmt.SCRYPT_DEFAULT["p"], os.urandom(fmt.SALT_SIZE)
        )
        if not fmt.SCRYPT_LOG2_N_RANGE[0] <= scrypt_log2_n <= fmt.max_log2_n(params.r):
            # Bad input, not a damaged file: a keyring this costly could never be unlocked.
            raise ValidationException(
                f"scrypt log2 N must be {fmt.SCRYPT_LOG2_N_RANGE[0]} to {fmt.max_log2_n(params.r)}"
            )
        params.check()
        doc = {
            "format": fmt.KEYRING_KIND,
            "version": fmt.FORMAT_VERSION,
            "keyring_id": str(uuid.uuid4()),
            "region": region,
            "account_id": account_id,
            "created": clock().isoformat(),
        }
        master = os.urandom(aead.KEY_SIZE)
        doc = cls._protect_master(doc, master, passphrase, params)
        make_parent_dirs(path)
        make_private_dir(path)
        check_private_dir(path)
        make_private_dir(path / fmt.KEYS_DIR)
        try:
            atomic_write(path / fmt.KEYRING_FILE, fmt.dump_keyring(doc), exclusive=True)
        except FileExistsError:
            raise _keyring_exists(path) from None
        keyring = cls(path, doc, clock=clock)
        keyring._master = master
        if cls.due_date_of is not None:
            keyring.index.rebuild([], [])
        keyring.alias_index.rebuild([])
        return keyring

    @staticmethod
    def _protect_master(doc: dict, master: bytes, passphrase: bytes, params: fmt.ScryptParams) -> dict:
        doc = {k: v for k, v in doc.items() if k not in ("kdf", *fmt.MASTER_KEY_FIELDS)}
        doc["kdf"] = {
            "name": "scrypt",
            "log2_n": params.log2_n,
            "r": params.r,
            "p": params.p,
            "salt": fmt.b64e(params.salt),
        }
        wrapping_key = kdf.scrypt(passphrase, params.salt, params.log2_n, params.r, params.p)
        doc["kdf"]["check"] = fmt.b64e(_passphrase_check(wrapping_key))
        return Keyring._seal_masters(doc, wrapping_key, master, None)

    @staticmethod
    def _seal_masters(doc: dict, wrapping_key: bytes, master: bytes, next_master: bytes | None) -> dict:
        """``doc`` with ``master`` (and, during a rotation, ``next_master``) sealed under the
        passphrase's wrapping key, each beside its public id."""
        doc = {k: v for k, v in doc.items() if k not in fmt.MASTER_KEY_FIELDS}
        for field, key in (("master_key", master), ("next_master_key", next_master)):
            if key is None:
                continue
            nonce, sealed = aead.seal(wrapping_key, key, fmt.master_key_aad(doc, field))
            doc[field] = {
                "algorithm": "AES_256_GCM",
                "id": master_key_id(key, doc["keyring_id"]),
                "nonce": fmt.b64e(nonce),
                "ciphertext": fmt.b64e(sealed),
            }
        return doc

    @classmethod
    def open(cls, path: Path, *, unlocker: Unlocker | None = None, clock=utc_now) -> "Keyring":
        path = Path(path)
        try:
            check_private_dir(path)
        except FileNotFoundError:
            raise KeyringNotFoundException(
                f"no keyring at {path}", hint=f"create one with: kmscli --keyring {path} init"
            ) from None
        try:
            raw = read_file(path / fmt.KEYRING_FILE, limit=64 << 10)
        except FileNotFoundError:
            raise KeyringNotFoundException(
                f"{path} holds no {fmt.KEYRING_FILE}", hint=f"create one with: kmscli --keyring {path} init"
            ) from None
        doc = fmt.parse_toml(raw, fmt.KEYRING_FILE)
        fmt.check_kind(doc, fmt.KEYRING_KIND, fmt.KEYRING_FILE)
        # The checksum is checked when the keyring is unlocked (where it tells damage from a
        # wrong passphrase), not here: list-keys and completion need not load hashlib.
        checksum = doc.pop(fmt.KEYRING_CHECKSUM_FIELD, None)
        for field in ("keyring_id", "region", "account_id"):
            if not isinstance(doc.get(field), str):
                raise KeyringDamagedException(f"{fmt.KEYRING_FILE}: {field} is missing")
        keys_dir = path / fmt.KEYS_DIR
        try:
            check_private_dir(keys_dir)
        except FileNotFoundError:
            raise KeyringDamagedException(f"{keys_dir} is missing") from None
        keyring = cls(path, doc, unlocker=unlocker, clock=clock)
        keyring._stored_checksum = checksum
        return keyring

    # --- identity --------------------------------------------------------------------------

    @property
    def keyring_id(self) -> str:
        return self.doc["keyring_id"]

    @property
    def region(self) -> str:
        return self.doc["region"]

    @property
    def account_id(self) -> str:
        return self.doc["account_id"]

    def key_arn(self, key_id: str) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:key/{key_id}"

    def alias_arn(self, alias_name: str) -> str:
        return f"arn:aws:kms:{self.region}:{self.account_id}:{alias_name}"

    # --- the master key ----------------------------------------------------------------------

    def scrypt_params(self) -> fmt.ScryptParams:
        k = self.doc.get("kdf")
        if not isinstance(k, dict) or k.get("name") != "scrypt":
            raise KeyringDamagedException(f"{fmt.KEYRING_FILE}: the [kdf] table is missing or unknown")
        return fmt.ScryptParams(
            k.get("log2_n"), k.get("r"), k.get("p"), fmt.b64d(k.get("salt"), "kdf salt")
        ).check()

    def master_from_passphrase(self, passphrase: bytes) -> bytes:
        """Derive the wrapping key and unwrap the master key: the slow step (scrypt).

        During an unfinished master-key rotation the next master key is unwrapped too and
        kept, so that ``master_key`` can finish the rotation (docs/keyring-format.md)."""
        if self._stored_checksum is not None:
            fmt.check_keyring_checksum({**self.doc, fmt.KEYRING_CHECKSUM_FIELD: self._stored_checksum})
        params = self.scrypt_params()  # bounds are checked before scrypt allocates anything
        wrapped = self.doc.get("master_key")
        if not isinstance(wrapped, dict):
            raise KeyringDamagedException(f"{fmt.KEYRING_FILE}: the [master_key] table is missing")
        pending = self.doc.get("next_master_key")
        if pending is not None and not isinstance(pending, dict):
            raise KeyringDamagedException(f"{fmt.KEYRING_FILE}: next_master_key is not a table")
        nonce = fmt.b64d(wrapped.get("nonce"), "master key nonce")
        sealed = fmt.b64d(wrapped.get("ciphertext"), "master key")
        wrapping_key = kdf.scrypt(passphrase, params.salt, params.log2_n, params.r, params.p)
        check = self.doc["kdf"].get("check")
        right_passphrase = isinstance(check, str) and mac.hmac_verify(
            "SHA_256", wrapping_key, fmt.PASSPHRASE_CHECK_LABEL, fmt.b64d(check, "passphrase check")
        )
        try:
            master = aead.open_(wrapping_key, nonce, sealed, fmt.master_key_aad(self.doc))
        except crypto.CryptoFailure:
            if right_passphrase:
                raise KeyringDamagedException(
                    f"{fmt.KEYRING_FILE} was altered or damaged: the passphrase is right but the "
                    "master key does not unwrap"
                ) from None
            hint = WRONG_PASSPHRASE_HINT
            if pending is not None:
                # `change-passphrase --rotate-master-key` was interrupted after keyring.toml
                # went under the new passphrase: the old one, which the user still tries,
                # no longer opens it, and nothing else would tell them to try the new one.
                hint = ("a master-key rotation was interrupted here: if it was a passphrase change, "
                        "give the NEW passphrase; the next command finishes the change")
            raise IncorrectPassphraseException(
                "the passphrase is wrong (or keyring.toml was altered)",
                hint=hint,
                rotation_interrupted=pending is not None,
            ) from None
        self._check_master(master, wrapped, "master key")
        self._wrapping_key = wrapping_key
        if pending is not None:
            try:
                next_master = aead.open_(
                    wrapping_key,
                    fmt.b64d(pending.get("nonce"), "next master key nonce"),
                    fmt.b64d(pending.get("ciphertext"), "next master key"),
                    fmt.master_key_aad(self.doc, "next_master_key"),
                )
            except crypto.CryptoFailure:
                raise KeyringDamagedException(
                    f"{fmt.KEYRING_FILE} was altered or damaged: the next master key does not unwrap"
                ) from None
            self._check_master(next_master, pending, "next master key")
            self._rotation = (wrapping_key, next_master)
        return master

    def _check_master(self, key: bytes, table: dict, what: str) -> None:
        if len(key) != aead.KEY_SIZE:
            raise KeyringDamagedException(f"{fmt.KEYRING_FILE}: the {what} has the wrong size")
        stated = table.get("id")
        if stated is not None and stated != master_key_id(key, self.keyring_id):
            raise KeyringDamagedException(f"{fmt.KEYRING_FILE}: the {what}'s id does not match the key")

    @property
    def master_key(self) -> bytes:
        if self._master is None:
            if self._unlocker is None:
                raise KeyringLockedException(
                    "the keyring is locked: no passphrase or session was given",
                    hint="set KMSCLI_PASSPHRASE_FILE, or run: eval \"$(kmscli unlock)\"",
                )
            master = self._unlocker(self)
            if len(master) != aead.KEY_SIZE:
                raise KeyringDamagedException("the unlocker returned a master key of the wrong size")
            self._use_master(master)
        return self._master

    def _use_master(self, master: bytes) -> None:
        """Take ``master`` as this keyring's master key, check what was read before the
        unlock, then finish a master-key rotation that a crash interrupted (its recovery:
        every document ends under the new key)."""
        if "next_master_key" in self.doc and self._rotation is None:
            raise KeyringLockedException(
                "a master-key rotation of this keyring is unfinished; only the passphrase can finish it",
                hint="run any command with the passphrase (KMSCLI_PASSPHRASE_FILE), e.g.: kmscli rotate-master-key",
            )
        self._master, self._master_id = master, None
        try:
            for raw, what in self._read_unverified:
                doc = fmt.parse_toml(raw, what)
                if self._rotation and doc.get(fmt.MASTER_KEY_ID_FIELD) == master_key_id(self._rotation[1], self.keyring_id):
                    self.verify_document(doc, what, master=self._rotation[1])  # rewrapped before a crash
                else:
                    self.verify_document(doc, what)
            self._read_unverified = []
            if "next_master_key" in self.doc:
                from .master_rotation import finish

                finish(self)
        except BaseException:
            self._master, self._master_id = None, None
            raise

    def unlock_with_passphrase(self, passphrase: bytes) -> bytes:
        """Unlock with ``passphrase`` (finishing an interrupted master-key rotation)."""
        self._use_master(self.master_from_passphrase(passphrase))
        return self._master

    @property
    def master_id(self) -> str:
        """The public id of the master key in use (documents record it)."""
        if self._master_id is None:
            self._master_id = master_key_id(self.master_key, self.keyring_id)
        return self._master_id

    @property
    def unlocked(self) -> bool:
        return self._master is not None

    def change_passphrase(
        self, new_passphrase: bytes, *, scrypt_log2_n: int | None = None, rotate_master_key: bool = False
    ) -> dict | None:
        """Re-wrap the master key under a new passphrase: one small file is rewritten. With
        ``rotate_master_key``, a new master key as well (master_rotation.rotate)."""
        if rotate_master_key:
            from .master_rotation import rotate

            return rotate(self, new_passphrase=new_passphrase, scrypt_log2_n=scrypt_log2_n)
        master = self.master_key
        with self.transaction():
            current = self.scrypt_params()
            params = fmt.ScryptParams(
                scrypt_log2_n or current.log2_n, current.r, current.p, os.urandom(fmt.SALT_SIZE)
            ).check()
            doc = self._protect_master(self.doc, master, new_passphrase, params)
            atomic_write(self.path / fmt.KEYRING_FILE, fmt.dump_keyring(doc))
            self.doc = doc
            self._stored_checksum = None  # ours now: dump_keyring wrote a fresh one
            self._wrapping_key = None  # the old passphrase's: a later rotation must ask again

    def rotate_master_key(self) -> dict:
        """A new random master key under the same passphrase; every sealed document is
        rewrapped, atomically as a whole (master_rotation). Needs the passphrase."""
        from .master_rotation import rotate

        return rotate(self)

    # --- integrity of documents ----------------------------------------------------------------

    def _integrity_key(self, master: bytes | None = None) -> bytes:
        return kdf.hkdf_sha256(master or self.master_key, fmt.INTEGRITY_LABEL + self.keyring_id.encode())

    def subkey(self, label: bytes) -> bytes:
        """A 32-byte sub-key of the master key for one purpose, named by ``label`` (HKDF):
        no two purposes ever share a key, and none of them is the master key itself."""
        if label == fmt.INTEGRITY_LABEL:
            raise ValueError("the integrity sub-key is private to the keyring")
        from .master_rotation import STABLE_SUBKEY_LABELS, stable_secret

        if label in STABLE_SUBKEY_LABELS:  # kept, sealed, by master-key rotations
            stored = stable_secret(self, label)
            if stored is not None:
                return stored
        return kdf.hkdf_sha256(self.master_key, label + self.keyring_id.encode())

    def _integrity_tag(self, doc: dict, master: bytes | None = None) -> str:
        body = {k: v for k, v in doc.items() if k != "integrity"}
        return fmt.b64e(mac.hmac_sha("SHA_256", self._integrity_key(master), fmt.canonical(body)))

    def verify_document(self, doc: dict, what: str, master: bytes | None = None) -> None:
        """Check ``doc``'s integrity tag under ``master`` (default: the keyring's)."""
        # HMAC-SHA-256 through crypto.mac (cryptography's, constant-time verify), not the
        # stdlib hmac: the same bytes, without loading hashlib's OpenSSL on every command.
        stated = doc.get(fmt.MASTER_KEY_ID_FIELD)
        if master is None and stated is not None and stated != self.master_id:
            raise KeyringDamagedException(
                f"{what} is sealed under another master key than keyring.toml's "
                "(restored from another copy, or a master-key rotation ran meanwhile)",
                hint="run the command again; if it persists, restore the keyring from one backup",
            )
        body = {k: v for k, v in doc.items() if k != "integrity"}
        try:
            tag = fmt.b64d(doc.get("integrity"), "integrity tag")
        except KeyringDamagedException:
            tag = None
        if tag is None or not mac.hmac_verify("SHA_256", self._integrity_key(master), fmt.canonical(body), tag):
            raise KeyringDamagedException(f"{what} was altered or damaged (integrity check failed)")

    def _sealed_bytes(self, doc: dict, master: bytes | None = None) -> bytes:
        """``doc`` as written: naming the master key that seals it, with its integrity tag."""
        master = master or self.master_key
        doc = dict(doc)
        doc[fmt.MASTER_KEY_ID_FIELD] = master_key_id(master, self.keyring_id)
        doc["integrity"] = self._integrity_tag(doc, master)
        return fmt.dump_toml(doc)

    # --- key documents ---------------------------------------------------------------------

    def key_path(self, key_id: str) -> Path:
        # Only a canonical UUID reaches the file system: no "../", NUL or odd names.
        if not is_key_id(key_id):
            raise NotFoundException(f"key '{key_id[:80]}' does not exist")
        return self.path / fmt.KEYS_DIR / (key_id + fmt.KEY_FILE_SUFFIX)

    def key_ids(self) -> list[str]:
        """Every key id, from a listing of keys/: the truth the index is rebuilt from, and
        what readers fall back on while there is no index. O(keys): not for every command."""
        names = os.listdir(self.path / fmt.KEYS_DIR)
        return sorted(
            n[: -len(fmt.KEY_FILE_SUFFIX)]
            for n in names
            if n.endswith(fmt.KEY_FILE_SUFFIX) and is_key_id(n[: -len(fmt.KEY_FILE_SUFFIX)])
        )

    def key_ids_from(self, start: str, count: int) -> list[str]:
        """Up to ``count`` key ids at or after ``start`` (a key id, or the start of one), in
        order: a page of list-keys, or the candidates of a completion, read from the index
        (a file or two whatever the number of keys); from keys/ when there is no index."""
        from .index import IndexDamaged

        index = self.index
        if index.present():
            try:
                return index.ids_from(start, count)
            except IndexDamaged:
                pass  # rebuilt by the next writer; meanwhile the listing is the truth
        import bisect

        ids = self.key_ids()
        first = bisect.bisect_left(ids, start)
        return ids[first : first + count]

    @property
    def index(self) -> Index:
        if self._index is None:
            from .index import Index

            self._index = Index(self.path, lambda key_id: os.path.lexists(self.key_path(key_id)))
        return self._index

    def _kept_index(self) -> Index | None:
        """The index, when this keyring keeps one (a writer must then keep it true)."""
        self._kept_index_stamp_due = self.due_date_of is not None and self.index.present()
        return self.index if self._kept_index_stamp_due else None

    def rebuild_index(self) -> None:
        """Build the index again from the key files (under the writer lock): when it is
        missing (a keyring from before it, or a rebuild cut short) or damaged. Reads every
        key file once; dates come from the clear metadata, since a due entry is only ever
        a hint that the sweep checks against the verified file."""
        remove_stale_temps(self.path / fmt.KEYS_DIR)  # what crashes left there before the index
        ids = self.key_ids()
        due = []
        markers = self.due_markers
        for key_id in ids:
            try:
                if markers is not None:
                    # Parsing TOML is most of a rebuild's time (18-21 s at 100,000 keys): a
                    # file without any field a due date comes from is not parsed. Only a file
                    # kmscli wrote (which spells those names plainly) can ever be acted on by
                    # the sweep, which verifies it first.
                    raw = read_file(self.key_path(key_id))
                    if not any(marker in raw for marker in markers):
                        continue
                when = self.due_date_of(self.load_key(key_id, verify=False))
            except (KmsError, FileNotFoundError):
                continue  # damaged or gone: never acted on by the sweep, and refused when used
            if when is not None:
                due.append((when, key_id))
        self.index.rebuild(ids, due)

    def _index_before_writing(self, doc: dict, *, new: bool = False, deleting: bool = False) -> list:
        """Tell the index what is about to change, before the key file changes: a crash in
        between then leaves a hint too many (checked against the file, and dropped), never
        a key file the index does not know. Returns how to undo it if the change fails."""
        index = self._kept_index()
        if index is None:
            return []
        from .index import IndexDamaged

        key_id = doc["metadata"]["KeyId"]
        for attempt in (1, 2):
            undo = []
            try:
                if new or deleting:
                    undo.append(index.note_key_change(key_id))
                when = None if deleting else self.due_date_of(doc)
                if when is not None:
                    undo.append(index.add_due(key_id, when))
                return [u for u in undo if u is not None]
            except IndexDamaged:
                if attempt == 2:
                    raise KeyringDamagedException("the keyring index cannot be rebuilt") from None
                self.rebuild_index()
        return []

    @staticmethod
    def _undo_index(undo: list) -> None:
        for step in reversed(undo):
            try:
                step()
            except OSError:
                pass  # what stays is a hint too many, which the index tolerates

    def load_key(self, key_id: str, *, verify: bool | None = None) -> dict:
        """The key's document. Verified against its integrity tag when the keyring is
        unlocked (or ``verify`` says so); otherwise its clear metadata is trusted for display."""
        path = self.key_path(key_id)
        what = f"key file {key_id}"
        try:
            raw = read_file(path)
        except FileNotFoundError:
            raise NotFoundException(f"Key '{self.key_arn(key_id)}' does not exist") from None  # AWS's words
        checked = verify or (verify is None and self.unlocked)
        if checked:
            known = self._verified_keys.get(key_id)
            if known is not None and known[0] == raw and known[1] == self.master_key:
                return plain_copy(known[2])
        doc = fmt.parse_toml(raw, what)
        fmt.check_kind(doc, fmt.KEY_KIND, what)
        fmt.check_key_document(doc, key_id, what)
        if checked:
            self.verify_document(doc, what)
            if len(self._verified_keys) >= VERIFIED_KEYS_KEPT:
                self._verified_keys.clear()  # a bound on memory; atomic, so threads need no lock
            self._verified_keys[key_id] = (raw, self.master_key, doc)
            return plain_copy(doc)  # callers may change theirs; the kept one stays as verified
        if verify is None:
            self._read_unverified.append((raw, what))  # the bytes: callers may change the dict
        return doc

    def save_key(self, doc: dict, *, new: bool = False) -> None:
        key_id = doc["metadata"]["KeyId"]
        path = self.key_path(key_id)
        data = self._sealed_bytes(doc)
        undo = self._index_before_writing(doc, new=new)
        try:
            atomic_write(path, data, exclusive=new, temp_dir=self.path)
        except FileExistsError:
            self._undo_index(undo)
            raise KeyringDamagedException(f"key file {key_id} exists already") from None
        except BaseException:
            self._undo_index(undo)
            raise
        self._stamp_index()

    def delete_key_file(self, key_id: str) -> None:
        path = self.key_path(key_id)
        undo = self._index_before_writing({"metadata": {"KeyId": key_id}}, deleting=True)
        try:
            os.unlink(path)
        except BaseException:
            self._undo_index(undo)
            raise
        fsync_dir(self.path / fmt.KEYS_DIR)
        self._stamp_index()

    def _stamp_index(self) -> None:
        """The index speaks for keys/ as kmscli just left it. Not writing it is no failure
        of the command (the key file is written): the next writer then rebuilds the index."""
        if self._kept_index_stamp_due:
            try:
                self.index.stamp()
            except (OSError, KmsError):
                pass

    # --- aliases ------------------------------------------------------------------------------
    #
    # Each alias is kept in a sealed bucket chosen by a hash of its name (aliases/3f.toml:
    # format kmscli-aliases, the bucket's name, and a table of its aliases, with the
    # integrity tag every sealed document has), so that resolving or changing an alias reads
    # and writes one small file, whatever the number of aliases. The order of names and the
    # aliases of each key are in the alias index (alias_index.py), a cache that is never
    # trusted over the buckets. A keyring from before the buckets keeps every alias in one
    # aliases.toml: read as before until its next write moves them (_migrate_aliases).

    def _legacy_aliases(self) -> bool:
        return os.path.lexists(self.path / fmt.ALIASES_FILE)

    def _load_legacy_aliases(self, verify: bool | None) -> dict:
        """aliases.toml, the one document of every alias (a keyring not yet migrated). The
        parsed document is kept while the file is unchanged (same inode, size, and modification
        and change times: a change time cannot be set back by hand)."""
        path = self.path / fmt.ALIASES_FILE
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return {}
        # The change time too: unlike the modification time, no user can set it back, so
        # a hand edit in place (same inode and size, mtime restored) is read and verified.
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        cached = self._aliases_cache
        if cached is not None and cached[0] == stamp:
            doc, raw = cached[1], cached[3]
        else:
            try:
                raw = read_file(path, limit=fmt.ALIASES_FILE_LIMIT)
            except FileNotFoundError:
                return {}
            doc = fmt.parse_toml(raw, fmt.ALIASES_FILE)
            fmt.check_kind(doc, fmt.ALIASES_KIND, fmt.ALIASES_FILE)
            self._aliases_cache = (stamp, doc, False, raw)
        if verify or (verify is None and self.unlocked):
            if not self._aliases_cache[2]:
                self.verify_document(doc, fmt.ALIASES_FILE)
                self._aliases_cache = (stamp, doc, True, raw)
        elif verify is None:
            self._read_unverified.append((raw, fmt.ALIASES_FILE))
        aliases = doc.get("aliases", {})
        if not isinstance(aliases, dict):
            raise KeyringDamagedException(f"{fmt.ALIASES_FILE}: aliases is not a table")
        return aliases

    def alias_bucket_path(self, bucket: str) -> Path:
        return self.path / fmt.ALIASES_DIR / (bucket + fmt.KEY_FILE_SUFFIX)

    def _alias_bucket(self, bucket: str, verify: bool | None) -> dict:
        """The aliases of one bucket ({} when it has no file), checked as every document:
        verified when unlocked (or ``verify``), else kept to be verified at the unlock."""
        what = f"aliases/{bucket}{fmt.KEY_FILE_SUFFIX}"
        path = self.alias_bucket_path(bucket)
        cached = self._alias_buckets.get(bucket)
        if not self._aliases_dir_checked:
            # As keys/: a directory that is a link, another user's or writable by others
            # could have its files swapped under us.
            try:
                check_private_dir(path.parent)
            except FileNotFoundError:
                return {}
            self._aliases_dir_checked = True
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return {}
        # The change time too: a hand edit can set the modification time back, not it.
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if cached is not None and cached[0] == stamp:
            _, doc, verified, raw = cached
        else:
            try:
                raw = read_file(path)
            except FileNotFoundError:
                return {}
            doc = fmt.parse_toml(raw, what)
            fmt.check_kind(doc, fmt.ALIASES_KIND, what)
            aliases = doc.get("aliases")
            if doc.get("bucket") != bucket or not isinstance(aliases, dict) or not all(
                isinstance(v, dict) and fmt.alias_bucket(k) == bucket for k, v in aliases.items()
            ):
                raise KeyringDamagedException(f"{what} was altered or damaged (not the aliases of its bucket)")
            verified = False
        if verify or (verify is None and self.unlocked):
            if not verified:
                self.verify_document(doc, what)
                verified = True
        elif verify is None:
            self._read_unverified.append((raw, what))
        self._alias_buckets[bucket] = (stamp, doc, verified, raw)
        return doc["aliases"]

    def load_alias(self, name: str, *, verify: bool | None = None) -> dict | None:
        """One alias's entry ({"TargetKeyId", "CreationDate", "LastUpdatedDate"}), or None.
        Reads its bucket only; verified as ``load_key`` is (at once, or at the unlock)."""
        if self._legacy_aliases():
            entry = self._load_legacy_aliases(verify).get(name)
        else:
            entry = self._alias_bucket(fmt.alias_bucket(name), verify).get(name)
        return dict(entry) if isinstance(entry, dict) else None

    def load_aliases(self, *, verify: bool | None = None) -> dict:
        """Every alias: {"alias/name": entry}. Reads every bucket: O(aliases), for a rebuild
        of the index and for readers while there is no index, not for every command."""
        if self._legacy_aliases():
            return dict(self._load_legacy_aliases(verify))
        found = {}
        for bucket in self.alias_buckets_present():
            found.update(self._alias_bucket(bucket, verify))
        return found

    def alias_buckets_present(self) -> list[str]:
        """The alias buckets that exist (aliases/<2 hex>.toml), in order; one listing."""
        try:
            names = os.listdir(self.path / fmt.ALIASES_DIR)
        except FileNotFoundError:
            return []
        suffix, buckets = fmt.KEY_FILE_SUFFIX, fmt.alias_buckets()
        return sorted(n[: -len(suffix)] for n in names if n.endswith(suffix) and n[: -len(suffix)] in buckets)

    @property
    def alias_index(self) -> AliasIndex:
        if self._alias_index is None:
            from .alias_index import AliasIndex  # imported here: see the imports at the top

            self._alias_index = AliasIndex(self.path)
        return self._alias_index

    def _rows_from_buckets(self, verify: bool | None = None) -> list[tuple[str, str, str, str]]:
        """Every alias as an index row (name, target, created, updated), read from the
        buckets themselves (or aliases.toml), by name: where the alias index cannot answer."""
        from .alias_index import row_of  # imported here: see the imports at the top

        found = (row_of(n, e) for n, e in self.load_aliases(verify=verify).items() if isinstance(e, dict))
        return sorted(r for r in found if r)

    def alias_rows_from(self, start: str, count: int) -> list[tuple[str, str, str, str]]:
        """Up to ``count`` aliases named ``start`` or after, in order, as (name, target,
        created, updated): from the index (a file or two), or from every bucket without one."""
        from .index import IndexDamaged  # imported here: see the imports at the top

        if not self._legacy_aliases() and self.alias_index.present():
            try:
                return self.alias_index.rows_from(start, count)
            except IndexDamaged:
                pass  # rebuilt by the next writer; meanwhile the buckets are the truth
        import bisect  # listings only, as in key_ids_from

        rows = self._rows_from_buckets()
        at = bisect.bisect_left(rows, (start,))
        return rows[at : at + count]

    def alias_rows_of_key(self, key_id: str, *, verify: bool = False) -> list[tuple[str, str, str, str]]:
        """The aliases of ``key_id``, by name. With ``verify`` (writers, under the lock), each
        one the index names is read again from its verified bucket and kept only if that
        says so: the index tells where to look, never what is true."""
        from .alias_index import row_of
        from .index import IndexDamaged  # imported here: see the imports at the top


        def from_buckets() -> list:
            return [r for r in self._rows_from_buckets(verify or None) if r[1] == key_id]

        if self._legacy_aliases():
            return from_buckets()
        if not verify:
            if not self.alias_index.present():
                return from_buckets()
            try:
                return self.alias_index.rows_of_key(key_id)
            except IndexDamaged:
                return from_buckets()  # rebuilt by the next writer
        for attempt in (1, 2):
            try:
                if not self.alias_index.present():
                    self.rebuild_alias_index()
                rows = self.alias_index.rows_of_key(key_id)
                break
            except IndexDamaged:
                if attempt == 2:
                    raise KeyringDamagedException("the alias index cannot be rebuilt") from None
                self.rebuild_alias_index()
        checked = []
        for name, *_ in rows:
            entry = self.load_alias(name, verify=True)
            row = row_of(name, entry) if entry is not None else None
            if row is not None and row[1] == key_id:
                checked.append(row)
        return checked

    def save_alias_changes(self, changes: dict[str, dict | None]) -> None:
        """Under the writer lock (``transaction``): each alias of ``changes`` set to its entry,
        or removed (None). The alias index first stops speaking for aliases/ (durably), then
        each bucket touched is written, sealed, then the index is updated and speaks again."""
        from .alias_index import row_of
        from .index import IndexDamaged  # imported here: see the imports at the top

        if not changes:
            return
        if self._legacy_aliases():
            self._migrate_aliases()  # here, a damaged aliases.toml is refused
        by_bucket: dict[str, dict] = {}
        index_changes = []
        for name, entry in changes.items():
            bucket = fmt.alias_bucket(name)
            if bucket not in by_bucket:
                by_bucket[bucket] = dict(self._alias_bucket(bucket, True))
            aliases = by_bucket[bucket]
            old = aliases.get(name)
            if entry is None:
                aliases.pop(name, None)
            else:
                aliases[name] = entry
            index_changes.append(
                (row_of(name, old) if isinstance(old, dict) else None, row_of(name, entry) if entry is not None else None)
            )
        data = {bucket: self._alias_bucket_bytes(bucket, aliases) for bucket, aliases in by_bucket.items()}
        index = self.alias_index
        suspended = index.suspend()  # the index stops speaking for aliases/ (durably)
        written = False
        try:
            make_private_dir(self.path / fmt.ALIASES_DIR)
            for bucket, raw in data.items():
                path = self.alias_bucket_path(bucket)
                self._alias_buckets.pop(bucket, None)
                if raw is None:
                    try:
                        os.unlink(path)
                    except FileNotFoundError:
                        continue
                    written = True
                    fsync_dir(path.parent)
                else:
                    atomic_write(path, raw, temp_dir=self.path)
                    written = True
        except BaseException:
            if written:
                index.discard(suspended)  # a bucket changed: the next writer rebuilds the index
            else:
                index.resume(suspended)  # nothing was written: the index speaks for aliases/ again
            raise
        index.discard(suspended)
        # The aliases are written: the command has done what it says. Keeping the index is
        # not part of that; if it fails, the next writer rebuilds it from the buckets.
        try:
            index.apply([c for c in index_changes if c != (None, None)])
            index.stamp()
        except (OSError, KmsError, IndexDamaged):
            pass

    def _alias_bucket_bytes(self, bucket: str, aliases: dict) -> bytes | None:
        if not aliases:
            return None
        doc = {"format": fmt.ALIASES_KIND, "version": fmt.FORMAT_VERSION, "bucket": bucket, "aliases": aliases}
        return self._sealed_bytes(doc)

    def save_aliases(self, aliases: dict) -> None:
        """Under the writer lock: the whole set of aliases becomes ``aliases`` (every bucket
        written, the index rebuilt). For bulk changes; one alias goes through save_alias_changes."""
        self.alias_index.discard(self.alias_index.suspend())
        self._write_alias_buckets(_by_bucket(aliases))
        self.rebuild_alias_index()

    def _write_alias_buckets(self, by_bucket: dict[str, dict]) -> None:
        """Every bucket as ``by_bucket`` says (a bucket it omits is removed)."""
        make_private_dir(self.path / fmt.ALIASES_DIR)
        for bucket in fmt.alias_buckets():
            raw = self._alias_bucket_bytes(bucket, by_bucket.get(bucket, {}))
            path = self.alias_bucket_path(bucket)
            if raw is not None:
                atomic_write(path, raw, temp_dir=self.path)
            elif os.path.lexists(path):
                os.unlink(path)
        fsync_dir(self.path / fmt.ALIASES_DIR)
        self._alias_buckets.clear()

    def rebuild_alias_index(self) -> None:
        """Under the writer lock: the alias index again from every bucket (clear metadata,
        as the key index: what it says is checked against the verified bucket before use)."""
        self.alias_index.rebuild(self._rows_from_buckets(verify=False))

    def _migrate_aliases(self) -> None:
        """Under the writer lock: move the aliases of aliases.toml (a keyring from before the
        buckets) into buckets. Each bucket is written from aliases.toml, which is removed
        last: a crash before then leaves aliases.toml, still the truth, and the next writer
        does it all again."""
        aliases = self._load_legacy_aliases(True)  # here, a damaged aliases.toml is refused
        self.alias_index.discard(self.alias_index.suspend())
        self._write_alias_buckets(_by_bucket(aliases))
        os.unlink(self.path / fmt.ALIASES_FILE)
        fsync_dir(self.path)
        self._aliases_cache = None
        self.rebuild_alias_index()

    # --- the access keys document (credentials for `kmscli serve`) -------------------------

    def load_access_keys(self, *, verify: bool | None = None) -> dict:
        """{"AKID...": {"Status", "CreateDate", "nonce", "wrapped"}}; {} when none was made."""
        path = self.path / fmt.ACCESS_KEYS_FILE
        try:
            raw = read_file(path)
        except FileNotFoundError:
            return {}
        doc = fmt.parse_toml(raw, fmt.ACCESS_KEYS_FILE)
        fmt.check_kind(doc, fmt.ACCESS_KEYS_KIND, fmt.ACCESS_KEYS_FILE)
        if verify or (verify is None and self.unlocked):
            self.verify_document(doc, fmt.ACCESS_KEYS_FILE)
        elif verify is None:
            self._read_unverified.append((raw, fmt.ACCESS_KEYS_FILE))
        keys = doc.get("access_keys", {})
        if not isinstance(keys, dict) or not all(isinstance(v, dict) for v in keys.values()):
            raise KeyringDamagedException(f"{fmt.ACCESS_KEYS_FILE}: access_keys is not a table of tables")
        return keys

    def save_access_keys(self, keys: dict) -> None:
        doc = {"format": fmt.ACCESS_KEYS_KIND, "version": fmt.FORMAT_VERSION, "access_keys": keys}
        atomic_write(self.path / fmt.ACCESS_KEYS_FILE, self._sealed_bytes(doc))

    def wrap_access_key_secret(self, access_key_id: str, secret: bytes) -> dict:
        """The secret sealed under the master key as every stored secret is (seal_secret,
        bound to its id); access-keys.toml is in master_rotation.SEALED_KINDS."""
        entry = self.seal_secret(secret, fmt.access_key_secret_aad(access_key_id))
        if self.unwrap_access_key_secret(access_key_id, entry) != secret:  # the Tink habit
            raise KeyringDamagedException("an access key secret did not survive wrapping")
        return entry

    def unwrap_access_key_secret(self, access_key_id: str, entry: dict) -> bytes:
        return self.open_secret(
            entry, fmt.access_key_secret_aad(access_key_id), f"the secret of access key {access_key_id}"
        )

    # --- wrapping key material ----------------------------------------------------------------

    def wrap_material(self, meta: dict, material_id: str, material: bytes) -> dict:
        entry = {"KeyMaterialId": material_id, **self.seal_secret(material, fmt.material_aad_of(meta, material_id))}
        # Unwrap again before trusting what we will write (the Tink habit).
        if self.unwrap_material(meta, entry) != material:
            raise KeyringDamagedException("key material did not survive wrapping")
        return entry

    def unwrap_material(self, meta: dict, entry: dict) -> bytes:
        material_id = entry.get("KeyMaterialId")
        what = f"key material of {meta.get('KeyId')}"
        if not isinstance(material_id, str):
            raise KeyringDamagedException(f"{what} has no KeyMaterialId")
        return self.open_secret(entry, fmt.material_aad_of(meta, material_id), what)

    def seal_secret(self, secret: bytes, aad: bytes, master: bytes | None = None) -> dict:
        """{"nonce", "wrapped"}: ``secret`` sealed under the master key, bound to ``aad``.
        Every secret kmscli stores goes through here and ``open_secret``, and each kind of
        document that holds one is listed in master_rotation.SEALED_KINDS."""
        nonce, sealed = aead.seal(master or self.master_key, secret, aad)
        return {"nonce": fmt.b64e(nonce), "wrapped": fmt.b64e(sealed)}

    def open_secret(self, entry: dict, aad: bytes, what: str, master: bytes | None = None) -> bytes:
        try:
            return aead.open_(
                master or self.master_key,
                fmt.b64d(entry.get("nonce"), what),
                fmt.b64d(entry.get("wrapped"), what),
                aad,
            )
        except crypto.CryptoFailure:
            raise KeyringDamagedException(f"{what} does not unwrap: the file was altered or damaged") from None

    # --- writers -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """Hold the writer lock; callers re-read what they change inside it, so concurrent
        processes never lose an update."""
        from .lock import exclusive_lock

        self.master_key  # unlock before taking the lock: a prompt must not hold it
        with exclusive_lock(self.path):
            self._check_master_unchanged()
            # Every temp file of keys/ and index/ is made here (atomic_write's temp_dir):
            # listing keys/ would cost every write time in proportion to the keys.
            remove_stale_temps(self.path)
            if self.due_date_of is not None and not self.index.present():
                self.rebuild_index()
            if self._legacy_aliases():
                try:
                    self._migrate_aliases()
                except KeyringDamagedException:
                    pass  # a damaged aliases.toml stops alias changes (save_alias_changes), not every write
            if not self._legacy_aliases() and not self.alias_index.present():
                self.rebuild_alias_index()
            for hook in list(self.write_hooks):
                hook(self)
            yield self

    def _check_master_unchanged(self) -> None:
        """Under the writer lock: keyring.toml still names our master key. A process that
        unlocked before a master-key rotation must not seal new documents under the old key
        (which the rotated keyring no longer holds): that would lose them."""
        doc = fmt.parse_toml(read_file(self.path / fmt.KEYRING_FILE, limit=64 << 10), fmt.KEYRING_FILE)
        table = doc.get("master_key")
        stated = table.get("id") if isinstance(table, dict) else None
        if "next_master_key" in doc or (stated is not None and stated != self.master_id):
            raise KeyringLockedException(
                "the keyring's master key changed since this command unlocked it (a master-key rotation)",
                hint="run the command again",
            )


def _by_bucket(aliases: dict) -> dict[str, dict]:
    """{bucket: {name: entry}}: the aliases grouped as they are stored."""
    by_bucket: dict[str, dict] = {}
    for name, entry in aliases.items():
        by_bucket.setdefault(fmt.alias_bucket(name), {})[name] = entry
    return by_bucket
