// The self-hosted licence file: a JSON payload and an Ed25519 signature over its canonical JSON (the same rule as
// the verification report's hashes, study-record.ts), so re-indenting the file does not break it but changing any
// value does. The signer's public key travels with it only to tell "tampered" from "signed by someone else".
import { createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "../migration/study-record";

export const LICENCE_FORMAT = "imgops-licence/1";
export const FEATURES = ["relay", "migration"] as const;
export type Feature = (typeof FEATURES)[number];

const day = z.iso.date("a date, YYYY-MM-DD");
/** null: no limit */
const limit = z.number().nonnegative().nullable();

export const LicencePayload = z
  .object({
    format: z.literal(LICENCE_FORMAT),
    licensee: z.string().min(1),
    deploymentId: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, "letters, digits and . _ : -"),
    mode: z.enum(["self-hosted", "hosted"]),
    features: z.array(z.enum(FEATURES)).min(1, "at least one feature").refine((f) => new Set(f).size === f.length, "features are listed once"),
    limits: z.object({ routers: limit, tenants: limit, migratedTb: limit }).strict(),
    issuedAt: day,
    /** the last day it is valid (UTC); null: perpetual */
    expiresAt: day.nullable(),
    /** the last day of maintenance (updates and support); the engine only reports it */
    maintenanceEndsAt: day,
  })
  .strict();
export type LicencePayload = z.infer<typeof LicencePayload>;

export const LicenceFile = z
  .object({
    payload: z.unknown(),
    /** the signer's Ed25519 public key, raw 32 bytes base64 */
    publicKey: z.string(),
    /** Ed25519 over canonicalJson(payload), base64 */
    signature: z.string(),
  })
  .strict();
export type LicenceFile = z.infer<typeof LicenceFile>;

export const rawPublicKey = (k: KeyObject) => (k.export({ format: "der", type: "spki" }) as Buffer).subarray(-32).toString("base64");
export const publicKeyFromRaw = (b64: string) =>
  createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(b64, "base64")]), format: "der", type: "spki" });

export function signLicence(payload: LicencePayload, privateKey: KeyObject): LicenceFile {
  const parsed = LicencePayload.parse(payload);
  return { payload: parsed, publicKey: rawPublicKey(createPublicKey(privateKey)), signature: sign(null, Buffer.from(canonicalJson(parsed)), privateKey).toString("base64") };
}

/**
 * The payload of a licence file's text if the trusted key signed it, or the problem in words. The signature is
 * checked before the payload's shape, so an edited field reads as tampering rather than as a schema complaint.
 */
export function verifyLicence(text: string, trustedKey: string): { ok: true; payload: LicencePayload } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: "the licence file is not JSON" };
  }
  const file = LicenceFile.safeParse(json);
  if (!file.success) return { ok: false, problem: `the file is not a licence (expected payload, publicKey and signature): ${z.prettifyError(file.error)}` };
  const { payload, publicKey, signature } = file.data;
  const signedBy = (key: string) => {
    try {
      return verify(null, Buffer.from(canonicalJson(payload)), publicKeyFromRaw(key.trim()), Buffer.from(signature, "base64"));
    } catch {
      return false;
    }
  };
  // The named key is only a hint (it is not signed): it tells a licence signed by someone else from a changed one.
  if (!signedBy(trustedKey)) {
    if (publicKey.trim() !== trustedKey.trim() && signedBy(publicKey))
      return { ok: false, problem: `the licence is not signed by the vendor key (signed by ${publicKey}, the engine trusts ${trustedKey})` };
    return { ok: false, problem: "the licence signature does not verify: the file was changed after it was issued" };
  }
  const parsed = LicencePayload.safeParse(payload);
  if (!parsed.success) return { ok: false, problem: `the signed payload is not a licence this engine understands: ${z.prettifyError(parsed.error)}` };
  return { ok: true, payload: parsed.data };
}
