"""The AWS Encryption SDK for Python (AWS's envelope-encryption library) through a kmscli key:
its KMS master key provider, pointed at ``kmscli serve`` the way AWS documents for any SDK
(``AWS_ENDPOINT_URL_KMS``), makes and opens messages whose data keys serve generated."""

from __future__ import annotations

import aws_encryption_sdk as esdk
import pytest

from serve_clients import AWS_ISOLATION, served  # noqa: F401



@pytest.fixture
def provider_for(served, monkeypatch):
    import botocore.session

    for name, value in AWS_ISOLATION.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", served.endpoint)

    def make(*key_arns):
        session = botocore.session.Session()
        session.set_credentials(served.access_key_id, served.secret_access_key)
        return esdk.StrictAwsKmsMasterKeyProvider(key_ids=list(key_arns), botocore_session=session)

    return make


def test_encrypt_and_decrypt_through_a_kmscli_key(served, provider_for):
    kms = served.client()
    arn = kms.create_key(Description="envelope")["KeyMetadata"]["Arn"]
    other = kms.create_key(Description="second wrapping key")["KeyMetadata"]["Arn"]
    client = esdk.EncryptionSDKClient(commitment_policy=esdk.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    plaintext = b"customer records\n" * 5000
    context = {"tenant": "acme", "purpose": "backup"}

    ciphertext, header = client.encrypt(source=plaintext, key_provider=provider_for(arn, other),
                                        encryption_context=context)
    assert plaintext not in ciphertext
    # One encrypted data key per wrapping key, each made by serve.
    assert sorted(k.key_provider.key_info.decode() for k in header.encrypted_data_keys) == sorted([arn, other])
    before = served.log().count("Decrypt")

    decrypted, decrypt_header = client.decrypt(source=ciphertext, key_provider=provider_for(arn))
    assert decrypted == plaintext
    assert context.items() <= decrypt_header.encryption_context.items()
    assert served.log().count("Decrypt") > before  # the data key was unwrapped by serve

    # serve's refusals reach the SDK: with the only key it may use disabled, nothing opens.
    kms.disable_key(KeyId=arn)
    try:
        with pytest.raises(esdk.exceptions.AWSEncryptionSDKClientError):
            client.decrypt(source=ciphertext, key_provider=provider_for(arn))
    finally:
        kms.enable_key(KeyId=arn)
    # The second wrapping key opens it alone.
    assert client.decrypt(source=ciphertext, key_provider=provider_for(other))[0] == plaintext
