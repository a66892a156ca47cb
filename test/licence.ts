// Licences for engine tests: signed with a test vendor key the engine is told to trust (ENGINE_LICENCE_PUBLIC_KEY,
// honoured because vitest runs with NODE_ENV=test). The real vendor key never appears in tests.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LICENCE_FORMAT, rawPublicKey, signLicence, type LicencePayload } from "../engine/licence/format";

export const testVendorKey = generateKeyPairSync("ed25519");
export const TEST_VENDOR_PUBLIC_KEY = rawPublicKey(testVendorKey.publicKey);

export const licencePayload = (over: Partial<LicencePayload> = {}): LicencePayload => ({
  format: LICENCE_FORMAT,
  licensee: "Test Clinic",
  deploymentId: "test-deployment",
  mode: "self-hosted",
  features: ["relay", "migration"],
  limits: { routers: null, tenants: null, migratedTb: null },
  issuedAt: "2026-01-01",
  expiresAt: null,
  maintenanceEndsAt: "2030-12-31",
  ...over,
});

/** A licence file signed by `key` (the test vendor's by default), at `file` or in a new temporary folder. */
export function writeLicence(over: Partial<LicencePayload> = {}, key: KeyObject = testVendorKey.privateKey, file?: string) {
  const to = file ?? path.join(mkdtempSync(path.join(os.tmpdir(), "licence-")), "licence.json");
  writeFileSync(to, JSON.stringify(signLicence(licencePayload(over), key), null, 2));
  return to;
}

/** The date `days` from `now` (UTC), as a licence writes it. */
export const dayFrom = (now: Date, days: number) => new Date(now.getTime() + days * 86_400_000).toISOString().slice(0, 10);
