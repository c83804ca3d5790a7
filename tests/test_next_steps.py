"""The hint after an error a newcomer meets early names the command that does what was meant,
not a generic "see --help"."""

from __future__ import annotations

from conftest import create_key


def hint(r) -> str:
    lines = r.stderr.decode().splitlines() if isinstance(r.stderr, bytes) else r.stderr.splitlines()
    return lines[1]


def test_encrypt_of_more_than_4096_bytes_points_at_encrypt_file(kms, tmp_path):
    key = create_key(kms)
    big = tmp_path / "big"
    big.write_bytes(b"a" * 4097)
    for source in (["--in", big], ["--plaintext", "a" * 4097], ["--plaintext", f"fileb://{big}"]):
        r = kms("encrypt", "--key-id", key, *source)
        assert r.status == 2 and "ValidationException: the plaintext is larger than 4096 bytes" in r.stderr
        assert hint(r) == "kmscli: hint: encrypt data of any size with: kmscli encrypt-file --key-id KEY --in FILE --out FILE"


def test_out_equal_to_in_says_how_to_replace_the_input(kms, tmp_path):
    key = create_key(kms)
    src = tmp_path / "f"
    src.write_bytes(b"keep me")
    for command in (["encrypt", "--key-id", key], ["encrypt-file", "--key-id", key]):
        r = kms(*command, "--in", src, "--out", src)
        assert r.status == 2 and "is the input file" in r.stderr
        assert hint(r) == "kmscli: hint: write to another path, then mv it over the input if you mean to replace it"
    assert src.read_bytes() == b"keep me"


def test_decrypt_file_with_the_wrong_context_does_not_name_encrypt(kms, tmp_path):
    key = create_key(kms)
    (tmp_path / "p").write_bytes(b"data")
    r = kms("encrypt-file", "--key-id", key, "--in", tmp_path / "p", "--out", tmp_path / "c",
            "--encryption-context", "purpose=backup")
    assert r.status == 0, r.stderr
    r = kms("decrypt-file", "--in", tmp_path / "c", "--out", tmp_path / "back")
    assert r.status == 3 and "InvalidCiphertextException" in r.stderr
    assert hint(r) == "kmscli: hint: pass the same --encryption-context pairs the data was encrypted with"


def test_decrypt_of_an_encrypt_file_output_points_at_decrypt_file(kms, tmp_path):
    key = create_key(kms)
    expected = "kmscli: hint: this file was made by encrypt-file; decrypt it with: kmscli decrypt-file --in FILE --out FILE"
    for size in (10, 100_000):  # under and over decrypt's 6144-byte limit: two different errors
        (tmp_path / "p").write_bytes(b"x" * size)
        r = kms("encrypt-file", "--key-id", key, "--in", tmp_path / "p", "--out", tmp_path / "c")
        assert r.status == 0, r.stderr
        for source in (["--in", tmp_path / "c"], ["--ciphertext-blob", f"fileb://{tmp_path / 'c'}"]):
            r = kms("decrypt", *source)
            assert r.status in (2, 3) and r.stdout in ("", b""), r.stderr
            assert hint(r) == expected
        r = kms("decrypt", "--in", "-", input=(tmp_path / "c").read_bytes())
        assert hint(r) == expected


def test_decrypt_of_anything_else_keeps_its_hint(kms, tmp_path):
    (tmp_path / "junk").write_bytes(b"\x01" * 100)
    r = kms("decrypt", "--in", tmp_path / "junk")
    assert r.status == 3 and "streamed" not in r.stderr and "decrypt-file" not in r.stderr
    (tmp_path / "big").write_bytes(b"\x01" * 10_000)
    r = kms("decrypt", "--in", tmp_path / "big")
    assert r.status == 2 and "decrypt-file" not in r.stderr


def test_decrypt_file_of_something_else_says_it_is_not_an_encrypt_file_output(kms, tmp_path):
    key = create_key(kms)
    blob = tmp_path / "blob"
    assert kms("encrypt", "--key-id", key, "--plaintext", "hi", "--out", blob).status == 0
    plain = tmp_path / "plain"
    plain.write_bytes(b"just some text\n")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    expected = ("kmscli: hint: the input does not start as files from encrypt-file do; "
                "a ciphertext from encrypt opens with: kmscli decrypt --in FILE")
    for source in (blob, plain, empty):
        r = kms("decrypt-file", "--in", source, "--out", tmp_path / "out")
        assert r.status == 3 and "InvalidCiphertextException" in r.stderr  # still the one opaque error
        assert hint(r) == expected
        assert not (tmp_path / "out").exists()
    # A real encrypt-file output cut short keeps the usual hint: the marker is there.
    (tmp_path / "p").write_bytes(b"data")
    assert kms("encrypt-file", "--key-id", key, "--in", tmp_path / "p", "--out", tmp_path / "c").status == 0
    (tmp_path / "cut").write_bytes((tmp_path / "c").read_bytes()[:20])
    r = kms("decrypt-file", "--in", tmp_path / "cut", "--out", tmp_path / "out")
    assert r.status == 3 and hint(r) == "kmscli: hint: pass the same --encryption-context pairs the data was encrypted with"
