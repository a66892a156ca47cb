// The canonical encoding hashed into the chain (docs/audit-format.md): JSON with object keys sorted,
// no insignificant whitespace, UTF-8. Kept dependency-free so the offline verifier can share it.
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);

export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export type HashedFields = {
  chain: string;
  seq: number;
  at: string;
  actor: unknown;
  action: string;
  target: string;
  reason: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  source: string;
  prevHash: string;
};

export function entryHash(fields: HashedFields): string {
  return createHash("sha256").update(canonicalJson({ v: 1, ...fields }), "utf8").digest("hex");
}
