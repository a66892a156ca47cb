// Encryption at rest: each tenant has its own 256-bit data key, stored only wrapped (AES-256-GCM) by the master
// key from configuration. Blobs are AES-256-GCM with the tenant and blob id as additional authenticated data, so
// a blob cannot be decrypted with another tenant's key nor passed off as another blob. Losing the master key
// makes every stored blob unrecoverable: there is deliberately no other copy of the data keys.
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCM, type DecipherGCM } from "node:crypto";

export const KEY_BYTES = 32;
const IV_BYTES = 12;
export const TAG_BYTES = 16;
/** Blob file layout: MAGIC | iv (12) | ciphertext | tag (16). */
export const BLOB_MAGIC = Buffer.from("IOB1");
export const BLOB_HEADER_BYTES = BLOB_MAGIC.length + IV_BYTES;

export function parseMasterKey(base64: string): Buffer {
  const key = Buffer.from(base64, "base64");
  if (key.length !== KEY_BYTES) throw new Error(`ENGINE_MASTER_KEY must be ${KEY_BYTES} bytes, base64-encoded (got ${key.length})`);
  return key;
}

export const newDataKey = () => randomBytes(KEY_BYTES);

/** Wraps a tenant's data key: iv | ciphertext | tag, bound to the tenant slug. */
export function wrapKey(master: Buffer, slug: string, dataKey: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", master, iv).setAAD(Buffer.from(`tenant-key:${slug}`));
  const body = Buffer.concat([c.update(dataKey), c.final()]);
  return Buffer.concat([iv, body, c.getAuthTag()]);
}

export function unwrapKey(master: Buffer, slug: string, wrapped: Buffer): Buffer {
  const iv = wrapped.subarray(0, IV_BYTES);
  const tag = wrapped.subarray(wrapped.length - TAG_BYTES);
  const d = createDecipheriv("aes-256-gcm", master, iv).setAAD(Buffer.from(`tenant-key:${slug}`));
  d.setAuthTag(tag);
  return Buffer.concat([d.update(wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES)), d.final()]);
}

const blobAad = (slug: string, blobId: string) => Buffer.from(`blob:${slug}:${blobId}`);

/**
 * Random IVs for blobs, drawn from the CSPRNG a few hundred at a time: one getrandom call per blob cost about as
 * much as encrypting a small instance. Every IV is still 96 fresh random bits, never reused.
 */
const IV_POOL_COUNT = 256;
let ivPool = Buffer.alloc(0);
let ivPoolOffset = 0;
function nextIv(): Buffer {
  if (ivPoolOffset >= ivPool.length) {
    ivPool = randomBytes(IV_BYTES * IV_POOL_COUNT);
    ivPoolOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivPoolOffset, ivPoolOffset + IV_BYTES));
  ivPoolOffset += IV_BYTES;
  return iv;
}

export function blobCipher(dataKey: Buffer, slug: string, blobId: string): { header: Buffer; cipher: CipherGCM } {
  const iv = nextIv();
  const cipher = createCipheriv("aes-256-gcm", dataKey, iv).setAAD(blobAad(slug, blobId));
  return { header: Buffer.concat([BLOB_MAGIC, iv]), cipher };
}

export function blobDecipher(dataKey: Buffer, slug: string, blobId: string, header: Buffer, tag: Buffer): DecipherGCM {
  if (!header.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC)) throw new Error("not an encrypted blob (bad magic)");
  const d = createDecipheriv("aes-256-gcm", dataKey, header.subarray(BLOB_MAGIC.length, BLOB_HEADER_BYTES)).setAAD(blobAad(slug, blobId));
  d.setAuthTag(tag);
  return d;
}

const recordAad = (slug: string, address: string) => Buffer.from(`blob-record:${slug}:${address}`);

/**
 * A small blob's record (what the engine knows of it besides its bytes, for recovery after a crash), sealed like a
 * blob and bound to the tenant and to the record's place: iv (12) | ciphertext | tag (16).
 */
export function sealRecord(dataKey: Buffer, slug: string, address: string, plaintext: Buffer): Buffer {
  const iv = nextIv();
  const c = createCipheriv("aes-256-gcm", dataKey, iv).setAAD(recordAad(slug, address));
  return Buffer.concat([iv, c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** sealRecord's output length for a plaintext of `length` bytes. */
export const sealedRecordBytes = (length: number) => IV_BYTES + length + TAG_BYTES;

/** sealRecord's plaintext; throws when the key, the place or a byte is wrong. */
export function openRecord(dataKey: Buffer, slug: string, address: string, sealed: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error("record too short");
  const d = createDecipheriv("aes-256-gcm", dataKey, sealed.subarray(0, IV_BYTES)).setAAD(recordAad(slug, address));
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([d.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), d.final()]);
}
