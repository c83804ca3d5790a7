"""Something that answers KMS operations: the local keyring, or a KMS endpoint.

Every AWS-named command, and kmscli's own workflows over KMS keys (files, large-file
signatures, PEM exports), make their requests through one method, ``call(name, request)``,
with AWS's member names and bytes for blobs, and get AWS's response back in the same form.
So both modes share parsing, rendering, ``--query``, ``--out`` and error lines, and a
workflow written once works on a keyring's keys and on AWS KMS's keys alike.

``LocalBackend`` carries a request out on the keyring (``operations.invoke``, the same table
``kmscli serve`` uses); ``kmscli.service.remote.RemoteBackend`` sends it to an endpoint
through botocore, imported only there.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from . import operations


class LocalBackend:
    """The keyring, opened when the first request needs it (GenerateRandom never does)."""

    endpoint: str | None = None

    def __init__(self, open_keyring: Callable[[], Any]):
        self._open_keyring = open_keyring
        self._keyring = None

    @property
    def keyring(self):
        if self._keyring is None:
            self._keyring = self._open_keyring()
        return self._keyring

    def call(self, name: str, request: Mapping[str, Any] | None = None) -> dict:
        op = operations.operation(name)
        return operations.invoke(self.keyring if op.uses_keyring else None, name, request) or {}

    def aliases_of(self, key_id: str) -> list[str]:
        """The alias names of the key (its UUID), for kmscli's own --detail: from the alias
        index, reading no other alias (issue 15)."""
        from .keys import aliases_of_key

        return aliases_of_key(self.keyring, key_id)

    def key_details(self, key_ids: list[str]) -> dict[str, dict]:
        """kmscli's own detail of each key (list-keys --detail, --output table)."""
        from .keys import key_details

        return key_details(self.keyring, key_ids)


def details_through_calls(backend, key_ids: list[str]) -> dict[str, dict]:
    """list-keys --detail over any backend: one DescribeKey per key and the aliases, as a
    user of AWS KMS would gather them (a keyring reads its own files faster)."""
    aliases: dict[str, list[str]] = {}
    marker = None
    while True:
        page = backend.call("ListAliases", {"Marker": marker} if marker else {})
        for alias in page.get("Aliases", []):
            if alias.get("TargetKeyId"):
                aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
        if not page.get("Truncated"):
            break
        marker = page["NextMarker"]
    details = {}
    for key_id in key_ids:
        meta = backend.call("DescribeKey", {"KeyId": key_id})["KeyMetadata"]
        details[key_id] = {
            "KeySpec": meta.get("KeySpec"),
            "KeyUsage": meta.get("KeyUsage"),
            "KeyState": meta.get("KeyState"),
            "CreationDate": meta.get("CreationDate"),
            "Description": meta.get("Description", ""),
            "Aliases": sorted(aliases.get(key_id, [])),
        }
    return details
