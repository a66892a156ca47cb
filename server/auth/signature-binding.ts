import "server-only";
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { authEnv } from "../env";

// Each kind of signed record has a key of its own, derived from the console's secret: a signature record copied to
// another record, tenant or kind, or edited, no longer verifies (21 CFR Part 11 §11.70, signature/record linking).
const key = (purpose: string, secret = authEnv().AUTH_SECRET) => Buffer.from(hkdfSync("sha256", secret, "imaging-ops", purpose, 32));

/** The HMAC that links a signature to what it signs: `values` in a fixed order, as JSON. */
export function bindRecord(purpose: string, values: unknown[], secret?: string) {
  return createHmac("sha256", key(purpose, secret)).update(JSON.stringify(values)).digest("hex");
}

export function verifyRecord(purpose: string, values: unknown[], binding: string, secret?: string) {
  const expected = Buffer.from(bindRecord(purpose, values, secret), "hex");
  const given = Buffer.from(binding, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
