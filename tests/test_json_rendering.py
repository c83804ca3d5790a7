"""The JSON renderer prints exactly what json.dumps(indent=4, ensure_ascii=False) prints
(aws-cli's layout), only faster: checked on shapes kmscli prints and on odd ones."""

from __future__ import annotations

import json
import random

import pytest

from kmscli.cli.render import dumps_indented

SHAPES = [
    {},
    [],
    {"Keys": [], "Truncated": False},
    {"Keys": [{"KeyId": "k", "KeyArn": "arn:aws:kms:local:000000000000:key/k"}], "Truncated": True, "NextMarker": "m"},
    {"a": {"b": {"c": [1, -2, 3.5, None, True, False, "x\"y\n\u2028é\x00"]}}, "e": [[], {}, [[]]]},
    {"KeyMetadata": {"Enabled": True, "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"], "MultiRegion": False}},
    [float("nan"), float("inf")],  # json's own spelling, through json itself
    {1: "int key"},  # likewise
    {"": "", "k": "v", "é": "\u2028"},
    [{"a": "b"}, {"c": {"d": "e"}}],
    "just a string",
    42,
]


@pytest.mark.parametrize("value", SHAPES, ids=range(len(SHAPES)))
def test_same_bytes_as_json_dumps(value):
    assert dumps_indented(value) == json.dumps(value, indent=4, ensure_ascii=False)


def test_same_bytes_on_random_plain_data():
    rng = random.Random(7)
    alphabet = "abc é€\\\"\n\t\x01\U0001f600"

    def make(depth):
        kind = rng.randrange(7 if depth < 4 else 4)
        if kind == 0:
            return "".join(rng.choice(alphabet) for _ in range(rng.randrange(6)))
        if kind == 1:
            return rng.randrange(-10**12, 10**12)
        if kind == 2:
            return rng.choice([True, False, None])
        if kind == 3:
            return rng.random() * 1e6
        if kind in (4, 5):
            return {"".join(rng.choice(alphabet) for _ in range(3)): make(depth + 1) for _ in range(rng.randrange(4))}
        return [make(depth + 1) for _ in range(rng.randrange(4))]

    for _ in range(300):
        value = make(0)
        assert dumps_indented(value) == json.dumps(value, indent=4, ensure_ascii=False)
