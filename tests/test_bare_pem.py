"""get-public-key --format bare-pem (issue 11): readers that refuse text before BEGIN
(pycryptodome, python-ecdsa) get the PEM alone. docs/key-specs.md runs the recipe."""

from __future__ import annotations

import pytest
from Crypto.PublicKey import ECC

from conftest import create_key


def test_bare_pem_is_what_pycryptodome_reads_and_the_default_pem_is_not(kms, tmp_path):
    key = create_key(kms, "ECC_NIST_P256", "SIGN_VERIFY")
    assert kms("get-public-key", "--key-id", key, "--out", tmp_path / "k.pem").status == 0
    assert kms("get-public-key", "--key-id", key, "--out", tmp_path / "bare.pem", "--format", "bare-pem").status == 0
    bare = (tmp_path / "bare.pem").read_text()
    assert bare.startswith("-----BEGIN PUBLIC KEY-----\n") and bare.endswith("-----END PUBLIC KEY-----\n")
    assert (tmp_path / "k.pem").read_text().endswith(bare)  # the same key, the configuration aside
    with pytest.raises(ValueError):
        ECC.import_key((tmp_path / "k.pem").read_text())
    assert ECC.import_key(bare).curve == "NIST P-256"
