import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { pseudonym, pseudonymUid } from "../anonymize";

describe("keyed-hash pseudonyms", () => {
  const key = randomBytes(32);

  it("derives valid, stable 2.25 UIDs that depend on the key", () => {
    const uid = pseudonymUid(key, "1.2.840.113619.2.1.1.1");
    expect(uid).toMatch(/^2\.25\.[1-9]\d*$/);
    expect(uid.length).toBeLessThanOrEqual(64);
    expect(pseudonymUid(key, "1.2.840.113619.2.1.1.1")).toBe(uid);
    expect(pseudonymUid(key, "1.2.840.113619.2.1.1.2")).not.toBe(uid);
    expect(pseudonymUid(randomBytes(32), "1.2.840.113619.2.1.1.1")).not.toBe(uid);
  });

  it("keeps identifiers within their value representation's length", () => {
    expect(pseudonym(key, "00100020", "PAT-000123")).toMatch(/^P[0-9A-F]{15}$/); // LO
    expect(pseudonym(key, "00080050", "ACC987")).toMatch(/^[0-9A-F]{16}$/); // SH: 16 characters
    expect(pseudonym(key, "00100010", "Doe^Jane")).toMatch(/^ANON\^[0-9A-F]{12}$/);
    // The same patient gets the same pseudonym in every study; different patients don't collide.
    expect(pseudonym(key, "00100020", "PAT-000123")).toBe(pseudonym(key, "00100020", "PAT-000123"));
    expect(pseudonym(key, "00100020", "PAT-000124")).not.toBe(pseudonym(key, "00100020", "PAT-000123"));
  });
});
