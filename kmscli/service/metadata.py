"""UpdateKeyDescription."""

from __future__ import annotations

from .. import specs
from ..errors import ValidationException
from ..keyring import Keyring
from .keydoc import editing
from .state import refuse_if_pending_deletion


def update_key_description(keyring: Keyring, key_id: str, description: str) -> dict:
    if not isinstance(description, str) or len(description) > specs.DESCRIPTION_MAX:
        raise ValidationException(f"Description must be 0 to {specs.DESCRIPTION_MAX} characters")
    with editing(keyring, key_id) as doc:
        refuse_if_pending_deletion(doc["metadata"])
        doc["metadata"]["Description"] = description
    return {}
