"""get-parameters-for-import, import-key-material, delete-imported-key-material."""

from __future__ import annotations

import click

from .. import specs
from ..service import importing
from .io import blob_in
from .options import checked_output, choice, key_id_option, text_value
from .render import emit


@click.command("get-parameters-for-import")
@key_id_option(help_="A key created with --origin EXTERNAL.")
@click.option("--wrapping-algorithm", type=choice(specs.WRAPPING_ALGORITHMS), required=True,
              help="How you will wrap the material (RSA private keys need RSA_AES_KEY_WRAP_*).")
@click.option("--wrapping-key-spec", type=choice(specs.WRAPPING_KEY_SPECS), required=True,
              help="Size of the RSA wrapping key.")
@click.option("--public-key-out", metavar="FILE", callback=checked_output, help="Also write the wrapping public key (DER) to FILE.")
@click.option("--import-token-out", metavar="FILE", callback=checked_output, help="Also write the raw import token to FILE.")
@click.pass_obj
def get_parameters_for_import(obj, key_id, wrapping_algorithm, wrapping_key_spec, public_key_out, import_token_out):
    """Get a wrapping public key and an import token, both valid 24 hours.

    PublicKey (DER SubjectPublicKeyInfo) and ImportToken are printed base64, as aws-cli
    prints them; --public-key-out and --import-token-out also write them raw to files (one
    of them may be - for standard output, and then nothing else is printed there). Only the newest pair is accepted by import-key-material.

    \b
    Example:
      kmscli get-parameters-for-import --key-id "$key" \\
          --wrapping-algorithm RSAES_OAEP_SHA_256 --wrapping-key-spec RSA_3072 \\
          --public-key-out WrappingPublicKey.der --import-token-out ImportToken.bin
    """
    from contextlib import ExitStack

    from .stream_io import output, same_file

    if public_key_out and import_token_out:
        if public_key_out == "-" and import_token_out == "-":
            raise click.UsageError("--public-key-out and --import-token-out cannot both be - (standard output)")
        if public_key_out == import_token_out or same_file(public_key_out, import_token_out):
            raise click.UsageError("--public-key-out and --import-token-out name the same file")
    with ExitStack() as stack:
        # The outputs are opened before the keyring changes: new parameters replace the
        # previous ones, so failing to write them afterwards would leave the user with
        # neither the old token (now refused) nor the new one, and the keyring changed.
        outputs = {}
        for field, path in (("PublicKey", public_key_out), ("ImportToken", import_token_out)):
            if path:
                outputs[field] = stack.enter_context(output(path, binary=True))
                outputs[field].prepare()
        result = obj.call(
            "GetParametersForImport",
            {"KeyId": key_id, "WrappingAlgorithm": wrapping_algorithm, "WrappingKeySpec": wrapping_key_spec},
        )
        for field, out in outputs.items():
            out.write(result[field])
    if "-" not in (public_key_out, import_token_out):  # raw bytes on stdout: nothing else there
        emit(result, output=obj.output, query=obj.query)


@click.command("import-key-material")
@key_id_option(help_="The key the import token was issued for.")
@click.option("--import-token", "token_b64", metavar="BASE64", help="The import token, base64 (or fileb://PATH).")
@click.option("--import-token-file", metavar="FILE", help="Read the raw import token from FILE.")
@click.option("--encrypted-key-material", "material_b64", metavar="BASE64",
              help="The wrapped key material, base64 (or fileb://PATH).")
@click.option("--encrypted-key-material-file", metavar="FILE", help="Read the raw wrapped key material from FILE.")
@click.option("--expiration-model", type=choice(specs.EXPIRATION_MODELS),
              help="Default KEY_MATERIAL_EXPIRES, which needs --valid-to (as AWS).")
@click.option("--valid-to", metavar="TIME",
              help="When the material expires: ISO 8601 (e.g. 2027-01-31T12:00:00Z) or epoch seconds; at most 365 days ahead.")
@click.option("--import-type", type=choice(importing.IMPORT_TYPES),
              help="Symmetric encryption keys: NEW_KEY_MATERIAL (the default for the first import) adds material "
              "for rotate-key-on-demand; EXISTING_KEY_MATERIAL (the default later) re-imports material the key had.")
@click.option("--key-material-id", metavar="ID", callback=text_value, help="The id of the material re-imported (checked against it).")
@click.option("--key-material-description", metavar="TEXT", callback=text_value,
              help="A description of the material (symmetric encryption keys; at most 256 characters).")
@click.pass_obj
def import_key_material(obj, key_id, token_b64, import_token_file, material_b64, encrypted_key_material_file,
                        expiration_model, valid_to, import_type, key_material_id, key_material_description):
    """Import key material wrapped with the public key of get-parameters-for-import.

    RSAES_OAEP_*: the material itself, RSA-OAEP encrypted. RSA_AES_KEY_WRAP_*: an AES-256
    key RSA-OAEP encrypted, followed by the material wrapped with it (RFC 5649). The
    material: 32 bytes for SYMMETRIC_DEFAULT, 28-64 / 32-64 / 48-128 / 64-128 bytes for
    HMAC_224 / 256 / 384 / 512, a PKCS #8 DER private key for RSA, ECC and Ed25519 keys.
    An asymmetric or HMAC key accepts only the material first imported into it. A symmetric
    encryption key can hold several: import new material with --import-type NEW_KEY_MATERIAL,
    then make it current with rotate-key-on-demand; earlier ciphertexts keep decrypting.

    \b
    Example:
      openssl rand -out material.bin 32
      openssl pkeyutl -encrypt -in material.bin -out EncryptedKeyMaterial.bin \\
          -pubin -inkey WrappingPublicKey.der -keyform DER \\
          -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
      kmscli import-key-material --key-id "$key" \\
          --import-token fileb://ImportToken.bin \\
          --encrypted-key-material fileb://EncryptedKeyMaterial.bin \\
          --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE
    """
    token = blob_in(b64=token_b64, path=import_token_file, limit=specs.IMPORT_TOKEN_MAX,
                    what="the import token", option="--import-token", file_option="--import-token-file")
    material = blob_in(b64=material_b64, path=encrypted_key_material_file, limit=specs.ENCRYPTED_KEY_MATERIAL_MAX,
                       what="the encrypted key material", option="--encrypted-key-material",
                       file_option="--encrypted-key-material-file")
    result = obj.call(
        "ImportKeyMaterial",
        {
            "KeyId": key_id,
            "ImportToken": token,
            "EncryptedKeyMaterial": material,
            "ExpirationModel": expiration_model,
            "ValidTo": valid_to,
            "ImportType": import_type,
            "KeyMaterialId": key_material_id,
            "KeyMaterialDescription": key_material_description,
        },
    )
    emit(result, output=obj.output, query=obj.query)


@click.command("delete-imported-key-material")
@key_id_option(help_="A key created with --origin EXTERNAL.")
@click.option("--key-material-id", metavar="ID", callback=text_value, help="The material to delete (default: the current one).")
@click.pass_obj
def delete_imported_key_material(obj, key_id, key_material_id):
    """Delete a key's imported material: the key becomes PendingImport and unusable until
    the same material is imported again (material still waiting for rotation is just dropped).

    \b
    Example:
      kmscli delete-imported-key-material --key-id "$key"
    """
    result = obj.call("DeleteImportedKeyMaterial", {"KeyId": key_id, "KeyMaterialId": key_material_id})
    emit(result, output=obj.output, query=obj.query)
