import "server-only";
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { authEnv } from "../env";

/** What a signature binds: the tenant, the study (item id) and the decision with its content and signer. */
export type SignedContent = {
  tenantId: string;
  itemId: string;
  decision: string;
  meaning: string;
  reason: string;
  patch: unknown;
  signerUserId: string;
  signerName: string;
  signedAt: string;
  authTime: string;
  countersigns?: string | null;
};

// A key of its own, derived from the console's secret: a signature record copied to another study or tenant,
// or edited, no longer verifies (21 CFR Part 11 §11.70, signature/record linking).
const key = (secret = authEnv().AUTH_SECRET) => Buffer.from(hkdfSync("sha256", secret, "imaging-ops", "quarantine-signature-binding/v1", 32));

const canonical = (c: SignedContent) =>
  JSON.stringify([c.tenantId, c.itemId, c.decision, c.meaning, c.reason, c.patch ?? null, c.signerUserId, c.signerName, c.signedAt, c.authTime, c.countersigns ?? null]);

export function bindSignature(c: SignedContent, secret?: string) {
  return createHmac("sha256", key(secret)).update(canonical(c)).digest("hex");
}

export function verifySignature(c: SignedContent, binding: string, secret?: string) {
  const expected = Buffer.from(bindSignature(c, secret), "hex");
  const given = Buffer.from(binding, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
