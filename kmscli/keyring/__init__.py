"""The on-disk store: format, master key, wrapping, locking, atomic writes."""

from .store import Keyring, default_keyring_path, is_key_id, utc_now

__all__ = ["Keyring", "default_keyring_path", "is_key_id", "utc_now"]
