"""The main job end to end: init, create a key, encrypt, decrypt."""

import base64

from conftest import create_key


def test_encrypt_decrypt_round_trip(kms):
    key = create_key(kms)
    blob = kms("encrypt", "--key-id", key, "--plaintext", "hello").json()["CiphertextBlob"]
    result = kms("decrypt", "--ciphertext-blob", blob).json()
    assert base64.b64decode(result["Plaintext"]) == b"hello"
    assert result["KeyId"].endswith(key)
