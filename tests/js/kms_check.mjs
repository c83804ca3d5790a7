// The AWS SDK for JavaScript v3 (@aws-sdk/client-kms) against `kmscli serve`.
//
// A second SDK family, with its own serializer, SigV4 signer and parser (botocore's are not
// involved): every response must parse into the SDK's shapes, every error into the SDK's own
// exception class, with AWS's name and HTTP status, every timestamp into a Date.
//
// Run by tests/test_serve_js_sdk.py (set-up: `npm ci --prefix tests/js`). Reads from its
// environment: AWS_ENDPOINT_URL_KMS, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY.
// Each check below asserts by itself; the script goes on after a failed check (to show every
// finding in one run), prints one JSON document on standard output
//   {"sdkVersion": ..., "checks": {name: "ok" | "FAILED: ..."}, "facts": {...}}
// (facts: what the Python side checks again with programs of its own, openssl and kmscli),
// and exits 1 when any check failed, 2 when it could not run at all.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import { createRequire } from "node:module";
import * as kms from "@aws-sdk/client-kms";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`kms_check: ${name} is not set`);
    process.exit(2);
  }
  return value;
};

const endpoint = env("AWS_ENDPOINT_URL_KMS");
const region = env("AWS_REGION");
const client = new kms.KMSClient({
  endpoint,
  region,
  credentials: { accessKeyId: env("AWS_ACCESS_KEY_ID"), secretAccessKey: env("AWS_SECRET_ACCESS_KEY") },
  maxAttempts: 1, // a failure must show, not be retried away
  requestHandler: { connectionTimeout: 5000, requestTimeout: 30000 },
});
const send = (Command, input) => client.send(new Command(input));

const checks = {};
const facts = {};

async function check(name, body) {
  try {
    await body();
    checks[name] = "ok";
  } catch (e) {
    const where = e && e.$metadata ? ` [${e.name}, HTTP ${e.$metadata.httpStatusCode}]` : "";
    checks[name] = `FAILED: ${e && e.message ? e.message : String(e)}${where}`;
  }
}

// --- helpers ------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const text = (s) => new TextEncoder().encode(s);

function assertRecentDate(value, what) {
  assert.ok(value instanceof Date, `${what} is not a Date: ${typeof value} ${JSON.stringify(value)}`);
  assert.ok(!Number.isNaN(value.getTime()), `${what} is an invalid Date`);
  assert.ok(Math.abs(value.getTime() - Date.now()) < 3600e3, `${what} is not within an hour of now: ${value.toISOString()}`);
}

function assertMetadata(out, what) {
  assert.equal(out.$metadata.httpStatusCode, 200, `${what}: HTTP status`);
  assert.match(String(out.$metadata.requestId), UUID, `${what}: $metadata.requestId (x-amzn-RequestId)`);
}

function assertBytes(value, what) {
  assert.ok(value instanceof Uint8Array, `${what} is not a Uint8Array: ${typeof value}`);
}

const UNWORDED = new Set(["KMSInvalidSignatureException", "KMSInvalidMacException", "InvalidCiphertextException"]);

// The SDK's own exception class, AWS's name, the HTTP status, a message: one error, recorded.
async function refused(ExceptionClass, status, call) {
  let error;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `expected ${ExceptionClass.name}, the call succeeded`);
  const seen = `${error.name} (${error.constructor && error.constructor.name}), HTTP ${error.$metadata && error.$metadata.httpStatusCode}: ${error.message}`;
  assert.ok(error instanceof kms.KMSServiceException, `not a KMSServiceException: ${seen}`);
  assert.ok(error instanceof ExceptionClass, `not an instance of ${ExceptionClass.name}: ${seen}`);
  if (ExceptionClass !== kms.KMSServiceException) assert.equal(error.name, ExceptionClass.name, seen);
  assert.equal(error.$metadata.httpStatusCode, status, seen);
  assert.equal(error.$fault, status >= 500 ? "server" : "client", seen);
  assert.match(String(error.$metadata.requestId), UUID, `$metadata.requestId: ${seen}`);
  // AWS answers these with no message (recorded from AWS KMS: tests/test_aws_recorded.py), as serve does.
  if (!UNWORDED.has(error.name)) {
    assert.ok(typeof error.message === "string" && error.message.length > 0 && error.message !== "UnknownError", `no message: ${seen}`);
  }
  return { name: error.name, status: error.$metadata.httpStatusCode, message: error.message, requestId: error.$metadata.requestId };
}

function sdkVersion() {
  try {
    return createRequire(import.meta.url)("@aws-sdk/client-kms/package.json").version;
  } catch {
    return "unknown";
  }
}

// --- the run ------------------------------------------------------------------------------

const keys = {};
const errors = {};
facts.errors = errors;

await check("CreateKey", async () => {
  const wanted = {
    symmetric: { Description: "js symmetric", Tags: [{ TagKey: "team", TagValue: "js" }] },
    ecc: { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY", Description: "js ecc" },
    rsa: { KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT", Description: "js rsa" },
    hmac: { KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC", Description: "js hmac" },
  };
  for (const [name, input] of Object.entries(wanted)) {
    const out = await send(kms.CreateKeyCommand, input);
    assertMetadata(out, `CreateKey ${name}`);
    const meta = out.KeyMetadata;
    assert.match(meta.KeyId, UUID, "KeyMetadata.KeyId");
    assert.equal(meta.Arn, `arn:aws:kms:${region}:${meta.Arn.split(":")[4]}:key/${meta.KeyId}`, "KeyMetadata.Arn");
    assertRecentDate(meta.CreationDate, `CreateKey ${name} KeyMetadata.CreationDate`);
    assert.equal(meta.Enabled, true);
    assert.equal(meta.KeyState, "Enabled");
    assert.equal(meta.Description, input.Description);
    assert.equal(meta.KeySpec, input.KeySpec ?? "SYMMETRIC_DEFAULT");
    assert.equal(meta.KeyUsage, input.KeyUsage ?? "ENCRYPT_DECRYPT");
    keys[name] = meta.KeyId;
  }
  facts.keys = keys;
});

await check("DescribeKey", async () => {
  const out = await send(kms.DescribeKeyCommand, { KeyId: keys.ecc });
  assertMetadata(out, "DescribeKey");
  const meta = out.KeyMetadata;
  assert.equal(meta.KeyId, keys.ecc);
  assertRecentDate(meta.CreationDate, "DescribeKey KeyMetadata.CreationDate");
  assert.deepEqual(meta.SigningAlgorithms, ["ECDSA_SHA_256"]);
  assert.equal(meta.Origin, "AWS_KMS");
  assert.equal(meta.KeyManager, "CUSTOMER");
  assert.equal(meta.MultiRegion, false);
  assert.equal(meta.DeletionDate, undefined);
  const rsa = (await send(kms.DescribeKeyCommand, { KeyId: keys.rsa })).KeyMetadata;
  assert.deepEqual(rsa.EncryptionAlgorithms, ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
  const hmac = (await send(kms.DescribeKeyCommand, { KeyId: keys.hmac })).KeyMetadata;
  assert.deepEqual(hmac.MacAlgorithms, ["HMAC_SHA_256"]);
});

await check("ListKeys paging", async () => {
  const seen = [];
  let marker;
  let pages = 0;
  do {
    const out = await send(kms.ListKeysCommand, { Limit: 1, ...(marker ? { Marker: marker } : {}) });
    assertMetadata(out, "ListKeys");
    assert.ok(out.Keys.length <= 1, `Limit 1 gave ${out.Keys.length} keys`);
    assert.equal(typeof out.Truncated, "boolean", "Truncated");
    for (const k of out.Keys) {
      assert.match(k.KeyId, UUID);
      assert.ok(k.KeyArn.endsWith(`:key/${k.KeyId}`), k.KeyArn);
      seen.push(k.KeyId);
    }
    marker = out.Truncated ? out.NextMarker : undefined;
    if (out.Truncated) assert.ok(typeof marker === "string" && marker.length > 0, "Truncated without NextMarker");
    pages += 1;
    assert.ok(pages < 100, "ListKeys does not end");
  } while (marker);
  assert.ok(pages >= 4, `4 keys in ${pages} pages of 1`);
  assert.equal(new Set(seen).size, seen.length, `a key listed twice: ${seen}`);
  for (const id of Object.values(keys)) assert.ok(seen.includes(id), `${id} not listed`);
  // The SDK's own paginator follows NextMarker itself.
  const paged = [];
  for await (const page of kms.paginateListKeys({ client, pageSize: 2 }, {})) paged.push(...page.Keys.map((k) => k.KeyId));
  assert.deepEqual(paged, seen);
  facts.listedKeys = seen;
});

await check("CreateAlias ListAliases", async () => {
  const created = await send(kms.CreateAliasCommand, { AliasName: "alias/js-sdk", TargetKeyId: keys.symmetric });
  assertMetadata(created, "CreateAlias");
  errors.aliasExists = await refused(kms.AlreadyExistsException, 400, () =>
    send(kms.CreateAliasCommand, { AliasName: "alias/js-sdk", TargetKeyId: keys.ecc }));
  const out = await send(kms.ListAliasesCommand, { KeyId: keys.symmetric });
  assertMetadata(out, "ListAliases");
  assert.equal(out.Aliases.length, 1, JSON.stringify(out.Aliases));
  const alias = out.Aliases[0];
  assert.equal(alias.AliasName, "alias/js-sdk");
  assert.equal(alias.TargetKeyId, keys.symmetric);
  assert.equal(alias.AliasArn, `arn:aws:kms:${region}:${alias.AliasArn.split(":")[4]}:alias/js-sdk`);
  assertRecentDate(alias.CreationDate, "ListAliases Aliases[].CreationDate");
  assertRecentDate(alias.LastUpdatedDate, "ListAliases Aliases[].LastUpdatedDate");
  const all = [];
  for await (const page of kms.paginateListAliases({ client, pageSize: 1 }, {})) all.push(...page.Aliases);
  assert.ok(all.some((a) => a.AliasName === "alias/js-sdk"), "the paginator misses alias/js-sdk");
  const byAlias = await send(kms.DescribeKeyCommand, { KeyId: "alias/js-sdk" });
  assert.equal(byAlias.KeyMetadata.KeyId, keys.symmetric);
});

await check("Encrypt Decrypt", async () => {
  const context = { purpose: "js-sdk", "héllo": "wörld" };
  const plaintext = text("a secret sent through the JS SDK ✓");
  const out = await send(kms.EncryptCommand, { KeyId: "alias/js-sdk", Plaintext: plaintext, EncryptionContext: context });
  assertMetadata(out, "Encrypt");
  assertBytes(out.CiphertextBlob, "Encrypt CiphertextBlob");
  assert.ok(out.KeyId.endsWith(`:key/${keys.symmetric}`), out.KeyId);
  assert.equal(out.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
  const back = await send(kms.DecryptCommand, { CiphertextBlob: out.CiphertextBlob, EncryptionContext: context });
  assertMetadata(back, "Decrypt");
  assertBytes(back.Plaintext, "Decrypt Plaintext");
  assert.deepEqual(Buffer.from(back.Plaintext), Buffer.from(plaintext));
  assert.equal(back.KeyId, out.KeyId);
  assert.equal(back.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
  facts.ciphertext = { blob: b64(out.CiphertextBlob), context, plaintext: b64(plaintext) };
  errors.wrongContext = await refused(kms.InvalidCiphertextException, 400, () =>
    send(kms.DecryptCommand, { CiphertextBlob: out.CiphertextBlob, EncryptionContext: { purpose: "other" } }));
  const tampered = Uint8Array.from(out.CiphertextBlob);
  tampered[tampered.length - 1] ^= 1;
  errors.tampered = await refused(kms.InvalidCiphertextException, 400, () =>
    send(kms.DecryptCommand, { CiphertextBlob: tampered, EncryptionContext: context }));
});

await check("GenerateDataKey", async () => {
  const out = await send(kms.GenerateDataKeyCommand, { KeyId: keys.symmetric, KeySpec: "AES_256", EncryptionContext: { file: "x" } });
  assertMetadata(out, "GenerateDataKey");
  assertBytes(out.Plaintext, "GenerateDataKey Plaintext");
  assertBytes(out.CiphertextBlob, "GenerateDataKey CiphertextBlob");
  assert.equal(out.Plaintext.length, 32);
  const back = await send(kms.DecryptCommand, { CiphertextBlob: out.CiphertextBlob, EncryptionContext: { file: "x" } });
  assert.deepEqual(Buffer.from(back.Plaintext), Buffer.from(out.Plaintext));
  const bytes = await send(kms.GenerateDataKeyCommand, { KeyId: keys.symmetric, NumberOfBytes: 16 });
  assert.equal(bytes.Plaintext.length, 16);
  const random = await send(kms.GenerateRandomCommand, { NumberOfBytes: 24 });
  assertBytes(random.Plaintext, "GenerateRandom Plaintext");
  assert.equal(random.Plaintext.length, 24);
});

await check("RSA Encrypt Decrypt", async () => {
  const plaintext = text("RSA through the JS SDK");
  const out = await send(kms.EncryptCommand, { KeyId: keys.rsa, Plaintext: plaintext, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" });
  assert.equal(out.CiphertextBlob.length, 256);
  const back = await send(kms.DecryptCommand, { KeyId: keys.rsa, CiphertextBlob: out.CiphertextBlob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" });
  assert.deepEqual(Buffer.from(back.Plaintext), Buffer.from(plaintext));
  // Encrypted by node's own crypto under the key from GetPublicKey, decrypted by kmscli.
  const pub = await send(kms.GetPublicKeyCommand, { KeyId: keys.rsa });
  assert.deepEqual(pub.EncryptionAlgorithms, ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
  const publicKey = crypto.createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
  const outside = crypto.publicEncrypt({ key: publicKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, plaintext);
  const fromOutside = await send(kms.DecryptCommand, { KeyId: keys.rsa, CiphertextBlob: outside, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" });
  assert.deepEqual(Buffer.from(fromOutside.Plaintext), Buffer.from(plaintext));
});

await check("Sign Verify GetPublicKey", async () => {
  const message = text("a release manifest signed through the JS SDK\n");
  const digest = crypto.createHash("sha256").update(message).digest();
  const raw = await send(kms.SignCommand, { KeyId: keys.ecc, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" });
  assertMetadata(raw, "Sign");
  assertBytes(raw.Signature, "Sign Signature");
  assert.equal(raw.KeyId, `arn:aws:kms:${region}:${raw.KeyId.split(":")[4]}:key/${keys.ecc}`);
  assert.equal(raw.SigningAlgorithm, "ECDSA_SHA_256");
  const fromDigest = await send(kms.SignCommand, { KeyId: keys.ecc, Message: digest, MessageType: "DIGEST", SigningAlgorithm: "ECDSA_SHA_256" });
  for (const [signature, type, input] of [[raw.Signature, "RAW", message], [fromDigest.Signature, "DIGEST", digest], [raw.Signature, "DIGEST", digest], [fromDigest.Signature, "RAW", message]]) {
    const out = await send(kms.VerifyCommand, { KeyId: keys.ecc, Message: input, MessageType: type, Signature: signature, SigningAlgorithm: "ECDSA_SHA_256" });
    assertMetadata(out, "Verify");
    assert.equal(out.SignatureValid, true, `Verify ${type}`);
    assert.equal(out.SigningAlgorithm, "ECDSA_SHA_256");
  }
  errors.badSignature = await refused(kms.KMSInvalidSignatureException, 400, () =>
    send(kms.VerifyCommand, { KeyId: keys.ecc, Message: text("another message"), Signature: raw.Signature, SigningAlgorithm: "ECDSA_SHA_256" }));
  const pub = await send(kms.GetPublicKeyCommand, { KeyId: keys.ecc });
  assertMetadata(pub, "GetPublicKey");
  assertBytes(pub.PublicKey, "GetPublicKey PublicKey");
  assert.equal(pub.KeySpec, "ECC_NIST_P256");
  assert.equal(pub.KeyUsage, "SIGN_VERIFY");
  assert.deepEqual(pub.SigningAlgorithms, ["ECDSA_SHA_256"]);
  // node's own crypto verifies both signatures with the public key's DER.
  const publicKey = crypto.createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
  assert.equal(publicKey.asymmetricKeyDetails.namedCurve, "prime256v1");
  assert.ok(crypto.verify("sha256", message, publicKey, raw.Signature), "node crypto rejects the RAW signature");
  assert.ok(crypto.verify("sha256", message, publicKey, fromDigest.Signature), "node crypto rejects the DIGEST signature");
  facts.signature = { message: b64(message), publicKey: b64(pub.PublicKey), raw: b64(raw.Signature), digest: b64(fromDigest.Signature) };
});

await check("GenerateMac VerifyMac", async () => {
  const message = text("a webhook body");
  const out = await send(kms.GenerateMacCommand, { KeyId: keys.hmac, Message: message, MacAlgorithm: "HMAC_SHA_256" });
  assertMetadata(out, "GenerateMac");
  assertBytes(out.Mac, "GenerateMac Mac");
  assert.equal(out.Mac.length, 32);
  assert.equal(out.MacAlgorithm, "HMAC_SHA_256");
  assert.ok(out.KeyId.endsWith(`:key/${keys.hmac}`), out.KeyId);
  const ok = await send(kms.VerifyMacCommand, { KeyId: keys.hmac, Message: message, Mac: out.Mac, MacAlgorithm: "HMAC_SHA_256" });
  assertMetadata(ok, "VerifyMac");
  assert.equal(ok.MacValid, true);
  errors.badMac = await refused(kms.KMSInvalidMacException, 400, () =>
    send(kms.VerifyMacCommand, { KeyId: keys.hmac, Message: text("another body"), Mac: out.Mac, MacAlgorithm: "HMAC_SHA_256" }));
  facts.mac = { message: b64(message), mac: b64(out.Mac) };
});

await check("TagResource ListResourceTags", async () => {
  const tagged = await send(kms.TagResourceCommand, { KeyId: keys.symmetric, Tags: [{ TagKey: "env", TagValue: "test" }, { TagKey: "team", TagValue: "platform" }] });
  assertMetadata(tagged, "TagResource");
  const out = await send(kms.ListResourceTagsCommand, { KeyId: keys.symmetric });
  assertMetadata(out, "ListResourceTags");
  const tags = Object.fromEntries(out.Tags.map((t) => [t.TagKey, t.TagValue]));
  assert.deepEqual(tags, { env: "test", team: "platform" });
  assert.equal(out.Truncated, false);
  await send(kms.UntagResourceCommand, { KeyId: keys.symmetric, TagKeys: ["env"] });
  const after = await send(kms.ListResourceTagsCommand, { KeyId: keys.symmetric });
  assert.deepEqual(after.Tags, [{ TagKey: "team", TagValue: "platform" }]);
});

await check("errors", async () => {
  const unknown = crypto.randomUUID();
  errors.notFound = await refused(kms.NotFoundException, 400, () => send(kms.DescribeKeyCommand, { KeyId: unknown }));
  errors.notFoundAlias = await refused(kms.NotFoundException, 400, () => send(kms.EncryptCommand, { KeyId: "alias/nothing-here", Plaintext: text("x") }));
  const disabled = (await send(kms.CreateKeyCommand, { Description: "js disabled" })).KeyMetadata.KeyId;
  await send(kms.DisableKeyCommand, { KeyId: disabled });
  const meta = (await send(kms.DescribeKeyCommand, { KeyId: disabled })).KeyMetadata;
  assert.equal(meta.KeyState, "Disabled");
  assert.equal(meta.Enabled, false);
  errors.disabled = await refused(kms.DisabledException, 400, () => send(kms.EncryptCommand, { KeyId: disabled, Plaintext: text("x") }));
  errors.invalidCiphertext = await refused(kms.InvalidCiphertextException, 400, () =>
    send(kms.DecryptCommand, { CiphertextBlob: crypto.randomBytes(64) }));
  errors.unsupported = await refused(kms.UnsupportedOperationException, 400, () =>
    send(kms.CreateGrantCommand, { KeyId: keys.symmetric, GranteePrincipal: "arn:aws:iam::111122223333:role/app", Operations: ["Decrypt"] }));
  errors.invalidKeyUsage = await refused(kms.InvalidKeyUsageException, 400, () =>
    send(kms.SignCommand, { KeyId: keys.symmetric, Message: text("x"), SigningAlgorithm: "ECDSA_SHA_256" }));
  // A refusal the SDK has no class for is still a KMSServiceException with AWS's name.
  let validation;
  try {
    await send(kms.CreateKeyCommand, { KeySpec: "HMAC_256", KeyUsage: "ENCRYPT_DECRYPT" });
  } catch (e) {
    validation = e;
  }
  assert.ok(validation instanceof kms.KMSServiceException, String(validation));
  assert.equal(validation.name, "ValidationException");
  assert.equal(validation.$metadata.httpStatusCode, 400);
  assert.ok(validation.message.length > 0);
  errors.validation = { name: validation.name, status: validation.$metadata.httpStatusCode, message: validation.message };
  facts.disabledKey = disabled;
});

await check("key rotation and import dates", async () => {
  const key = (await send(kms.CreateKeyCommand, { Description: "js rotation" })).KeyMetadata.KeyId;
  await send(kms.EnableKeyRotationCommand, { KeyId: key, RotationPeriodInDays: 90 });
  const status = await send(kms.GetKeyRotationStatusCommand, { KeyId: key });
  assertMetadata(status, "GetKeyRotationStatus");
  assert.equal(status.KeyRotationEnabled, true);
  assert.equal(status.RotationPeriodInDays, 90);
  assert.ok(status.NextRotationDate instanceof Date, `NextRotationDate is not a Date: ${status.NextRotationDate}`);
  const days = (status.NextRotationDate.getTime() - Date.now()) / 86400e3;
  assert.ok(days > 89 && days < 91, `NextRotationDate ${status.NextRotationDate.toISOString()} is not 90 days away`);
  await send(kms.RotateKeyOnDemandCommand, { KeyId: key });
  const rotations = await send(kms.ListKeyRotationsCommand, { KeyId: key });
  assertMetadata(rotations, "ListKeyRotations");
  assert.equal(rotations.Rotations.length, 1, JSON.stringify(rotations.Rotations));
  assertRecentDate(rotations.Rotations[0].RotationDate, "ListKeyRotations Rotations[].RotationDate");
  assert.equal(rotations.Rotations[0].RotationType, "ON_DEMAND");
  const external = (await send(kms.CreateKeyCommand, { Origin: "EXTERNAL", Description: "js import" })).KeyMetadata;
  assert.equal(external.KeyState, "PendingImport");
  const params = await send(kms.GetParametersForImportCommand, { KeyId: external.KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" });
  assertBytes(params.ImportToken, "GetParametersForImport ImportToken");
  assertBytes(params.PublicKey, "GetParametersForImport PublicKey");
  assert.ok(params.ParametersValidTo instanceof Date, `ParametersValidTo is not a Date: ${params.ParametersValidTo}`);
  const hours = (params.ParametersValidTo.getTime() - Date.now()) / 3600e3;
  assert.ok(hours > 23 && hours < 25, `ParametersValidTo ${params.ParametersValidTo.toISOString()} is not 24 hours away`);
  // Key material wrapped by node's crypto; ValidTo is the one timestamp KMS takes in a request.
  const material = crypto.randomBytes(32);
  const wrappingKey = crypto.createPublicKey({ key: Buffer.from(params.PublicKey), format: "der", type: "spki" });
  const wrapped = crypto.publicEncrypt({ key: wrappingKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, material);
  const validTo = new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * 86400e3 + 500); // a fraction of a second too
  const imported = await send(kms.ImportKeyMaterialCommand, {
    KeyId: external.KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapped,
    ExpirationModel: "KEY_MATERIAL_EXPIRES", ValidTo: validTo,
  });
  assertMetadata(imported, "ImportKeyMaterial");
  const meta = (await send(kms.DescribeKeyCommand, { KeyId: external.KeyId })).KeyMetadata;
  assert.equal(meta.KeyState, "Enabled");
  assert.equal(meta.ExpirationModel, "KEY_MATERIAL_EXPIRES");
  assert.ok(meta.ValidTo instanceof Date, `ValidTo is not a Date: ${meta.ValidTo}`);
  assert.ok(Math.abs(meta.ValidTo.getTime() - validTo.getTime()) <= 1000, `ValidTo ${meta.ValidTo.toISOString()} != ${validTo.toISOString()}`);
  const blob = (await send(kms.EncryptCommand, { KeyId: external.KeyId, Plaintext: text("imported") })).CiphertextBlob;
  assert.equal(new TextDecoder().decode((await send(kms.DecryptCommand, { CiphertextBlob: blob })).Plaintext), "imported");
  facts.imported = { keyId: external.KeyId, validTo: meta.ValidTo.getTime() / 1000 };
});

await check("ReEncrypt GenerateDataKeyPair", async () => {
  const other = (await send(kms.CreateKeyCommand, { Description: "js re-encrypt" })).KeyMetadata.KeyId;
  const blob = (await send(kms.EncryptCommand, { KeyId: keys.symmetric, Plaintext: text("moving"), EncryptionContext: { a: "1" } })).CiphertextBlob;
  const moved = await send(kms.ReEncryptCommand, {
    CiphertextBlob: blob, SourceEncryptionContext: { a: "1" }, DestinationKeyId: other, DestinationEncryptionContext: { b: "2" },
  });
  assertMetadata(moved, "ReEncrypt");
  assertBytes(moved.CiphertextBlob, "ReEncrypt CiphertextBlob");
  assert.ok(moved.SourceKeyId.endsWith(`:key/${keys.symmetric}`), moved.SourceKeyId);
  assert.ok(moved.KeyId.endsWith(`:key/${other}`), moved.KeyId);
  const back = await send(kms.DecryptCommand, { CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { b: "2" } });
  assert.equal(new TextDecoder().decode(back.Plaintext), "moving");
  const pair = await send(kms.GenerateDataKeyPairCommand, { KeyId: keys.symmetric, KeyPairSpec: "ECC_NIST_P256" });
  assertMetadata(pair, "GenerateDataKeyPair");
  for (const member of ["PrivateKeyCiphertextBlob", "PrivateKeyPlaintext", "PublicKey"]) assertBytes(pair[member], member);
  assert.equal(pair.KeyPairSpec, "ECC_NIST_P256");
  // node's crypto reads both halves, and they belong together.
  const privateKey = crypto.createPrivateKey({ key: Buffer.from(pair.PrivateKeyPlaintext), format: "der", type: "pkcs8" });
  const derived = crypto.createPublicKey(privateKey).export({ format: "der", type: "spki" });
  assert.deepEqual(derived, Buffer.from(pair.PublicKey));
  const opened = await send(kms.DecryptCommand, { CiphertextBlob: pair.PrivateKeyCiphertextBlob });
  assert.deepEqual(Buffer.from(opened.Plaintext), Buffer.from(pair.PrivateKeyPlaintext));
});

await check("authentication refusals", async () => {
  // Refusals the KMS model has no class for: KMSServiceException with AWS's name and status.
  const refusedBy = async (credentials, name) => {
    const other = new kms.KMSClient({ endpoint, region, credentials, maxAttempts: 1 });
    try {
      await other.send(new kms.ListKeysCommand({}));
    } catch (e) {
      assert.ok(e instanceof kms.KMSServiceException, String(e));
      assert.equal(e.name, name, e.message);
      assert.equal(e.$metadata.httpStatusCode, 400, e.message);
      assert.ok(e.message.length > 0);
      return { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
    } finally {
      other.destroy();
    }
    assert.fail(`expected ${name}, the call succeeded`);
  };
  const { accessKeyId, secretAccessKey } = await client.config.credentials();
  errors.wrongSecret = await refusedBy({ accessKeyId, secretAccessKey: secretAccessKey.slice(0, -1) + (secretAccessKey.endsWith("A") ? "B" : "A") }, "InvalidSignatureException");
  errors.unknownAccessKey = await refusedBy({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey }, "UnrecognizedClientException");
  const otherRegion = new kms.KMSClient({ endpoint, region: region === "eu-west-1" ? "us-east-1" : "eu-west-1", credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
  try {
    errors.wrongRegion = await refused(kms.KMSServiceException, 400, () => otherRegion.send(new kms.ListKeysCommand({})));
    assert.equal(errors.wrongRegion.name, "InvalidSignatureException");
  } finally {
    otherRegion.destroy();
  }
});

await check("clock skew corrected from the Date header", async () => {
  // A client whose clock is 20 minutes slow signs an expired request; the SDK reads the
  // server's Date header from the refusal and signs the next request with the offset.
  // (Its automatic retry of such a refusal needs a real skew of 4 minutes or more between
  // the machine's clock and the server's, which a test on one machine cannot have.)
  const { accessKeyId, secretAccessKey } = await client.config.credentials();
  const slow = new kms.KMSClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey }, systemClockOffset: -20 * 60e3, maxAttempts: 1 });
  try {
    errors.skewed = await refused(kms.KMSServiceException, 400, () => slow.send(new kms.ListKeysCommand({ Limit: 1 })));
    assert.equal(errors.skewed.name, "InvalidSignatureException");
    assert.ok(Math.abs(slow.config.systemClockOffset) < 60e3, `the SDK did not correct its clock: offset ${slow.config.systemClockOffset} ms`);
    const out = await slow.send(new kms.ListKeysCommand({ Limit: 1 }));
    assert.equal(out.Keys.length, 1);
  } finally {
    slow.destroy();
  }
});

await check("parallel requests", async () => {
  // An application's burst: 40 requests at once over the SDK's pool of kept-alive connections.
  const sent = Array.from({ length: 40 }, (_, i) => text(`parallel ${i}`));
  const blobs = await Promise.all(sent.map((Plaintext) => send(kms.EncryptCommand, { KeyId: keys.symmetric, Plaintext })));
  const back = await Promise.all(blobs.map(({ CiphertextBlob }) => send(kms.DecryptCommand, { CiphertextBlob })));
  assert.deepEqual(back.map((b) => Buffer.from(b.Plaintext).toString()), sent.map((p) => Buffer.from(p).toString()));
});

await check("AWS_ENDPOINT_URL_KMS", async () => {
  // No endpoint in the code: the SDK takes it from the environment, as docs/serve.md says.
  const { accessKeyId, secretAccessKey } = await client.config.credentials();
  const fromEnv = new kms.KMSClient({ region, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
  try {
    const out = await fromEnv.send(new kms.DescribeKeyCommand({ KeyId: "alias/js-sdk" }));
    assert.equal(out.KeyMetadata.KeyId, keys.symmetric);
  } finally {
    fromEnv.destroy();
  }
});

await check("ScheduleKeyDeletion", async () => {
  const out = await send(kms.ScheduleKeyDeletionCommand, { KeyId: keys.hmac, PendingWindowInDays: 7 });
  assertMetadata(out, "ScheduleKeyDeletion");
  assert.ok(out.KeyId.endsWith(`:key/${keys.hmac}`), out.KeyId);
  assert.equal(out.KeyState, "PendingDeletion");
  assert.equal(out.PendingWindowInDays, 7);
  assert.ok(out.DeletionDate instanceof Date, `DeletionDate is not a Date: ${out.DeletionDate}`);
  const days = (out.DeletionDate.getTime() - Date.now()) / 86400e3;
  assert.ok(days > 6.9 && days < 7.1, `DeletionDate ${out.DeletionDate.toISOString()} is not 7 days away`);
  const meta = (await send(kms.DescribeKeyCommand, { KeyId: keys.hmac })).KeyMetadata;
  assert.equal(meta.KeyState, "PendingDeletion");
  assert.equal(meta.Enabled, false);
  assert.equal(meta.DeletionDate.getTime(), out.DeletionDate.getTime());
  errors.pendingDeletion = await refused(kms.KMSInvalidStateException, 400, () =>
    send(kms.GenerateMacCommand, { KeyId: keys.hmac, Message: text("x"), MacAlgorithm: "HMAC_SHA_256" }));
  facts.deletionDate = out.DeletionDate.getTime() / 1000;
});

client.destroy();
const failed = Object.entries(checks).filter(([, v]) => v !== "ok");
process.stdout.write(JSON.stringify({ sdkVersion: sdkVersion(), checks, facts }, null, 1) + "\n");
for (const [name, message] of failed) console.error(`kms_check: ${name}: ${message}`);
process.exit(failed.length ? 1 : 0);
