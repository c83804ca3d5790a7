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
# The index and the writer lock are imported where used: encrypt, decrypt and sign with a
# session read one key file and need neither (each module imported costs start-up).
if TYPE_CHECKING:
    from .index import Index

_HEX = frozenset("0123456789abcdef")
_UUID_DASHES = (8, 13, 18, 23)

# Unlocker: returns the 32-byte master key, asking for a passphrase or reading a session.
Unlocker = Callable[["Keyring"], bytes]


def default_keyring_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(base):
        # The XDG spec: a relative path in these variables is invalid and is ignored (it
        # would put the keyring wherever the command happened to run).
        base = os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "kmscli" / "keyring"


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
    return (
        isinstance(text, str)
        and len(text) == 36
        and all(text[i] == "-" for i in _UUID_DASHES)
        and all(c in _HEX for i, c in enumerate(text) if i not in _UUID_DASHES)
    )


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

    def __init__(self, path: Path, doc: dict, *, unlocker: Unlocker | None = None, clock=utc_now):
        self.path = path
        self.doc = doc
        self.clock = clock
        self._unlocker = unlocker
        self._master: bytes | None = None
        self._stored_checksum: str | None = None  # keyring.toml's, as read; checked on unlock
        self._index: Index | None = None
        self._kept_index_stamp_due = False
        self._aliases_cache: tuple | None = None  # (file stamp, parsed document, verified, bytes)
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
        if os.path.lexists(path / fmt.KEYRING_FILE):
            raise _keyring_exists(path)
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
            hint = "check KMSCLI_PASSPHRASE, the passphrase file, or the session"
            if pending is not None:
                # `change-passphrase --rotate-master-key` was interrupted after keyring.toml
                # went under the new passphrase: the old one, which the user still tries,
                # no longer opens it, and nothing else would tell them to try the new one.
                hint = ("a master-key rotation was interrupted here: if it was a passphrase change, "
                        "give the NEW passphrase; the next command finishes the change")
            raise IncorrectPassphraseException(
                "the passphrase is wrong (or keyring.toml was altered)", hint=hint
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
        for key_id in ids:
            try:
                when = self.due_date_of(self.load_key(key_id, verify=False))
            except KmsError:
                continue  # damaged: never acted on by the sweep, and refused when used
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
            raise NotFoundException(f"key '{key_id}' does not exist") from None
        doc = fmt.parse_toml(raw, what)
        fmt.check_kind(doc, fmt.KEY_KIND, what)
        fmt.check_key_document(doc, key_id, what)
        if verify or (verify is None and self.unlocked):
            self.verify_document(doc, what)
        elif verify is None:
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

    # --- the aliases document ---------------------------------------------------------------

    def load_aliases(self, *, verify: bool | None = None) -> dict:
        """{"alias/name": {"TargetKeyId": ..., "CreationDate": ..., ...}}.

        The parsed document is kept while the file is unchanged (same inode, size and
        modification time): following NextMarker through thousands of aliases parses it
        once, not once a page. Callers get their own dict to change."""
        path = self.path / fmt.ALIASES_FILE
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
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
        return dict(aliases)

    def save_aliases(self, aliases: dict) -> None:
        doc = {"format": fmt.ALIASES_KIND, "version": fmt.FORMAT_VERSION, "aliases": aliases}
        atomic_write(self.path / fmt.ALIASES_FILE, self._sealed_bytes(doc))

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
