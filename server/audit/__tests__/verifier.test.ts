// The offline verifier against random tampering: a 10,000-entry chain with signed checkpoints, and well over a
// thousand random edits, deletions, insertions, swaps, truncations and re-signings, each of which must be caught
// at the place it was made. Seeded, so a failure reproduces (the seed is in the test name).
import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  checkpointMessage,
  entryCanonical,
  entryHash,
  entryLine,
  EXPORT_FORMAT,
  GENESIS_HASH,
  keyIdOf,
  sha256Hex,
  verifyLines,
  type EntryFields,
} from "../verifier";

const ENTRIES = 10_000;
const CHECKPOINT_EVERY = 500;
const TAMPERINGS = 1_000;
const SEED = 20261122;

function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function signer() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  return { publicKey: raw.toString("base64"), keyId: keyIdOf(raw), sign: (m: Buffer) => sign(null, m, privateKey).toString("base64") };
}
type Signer = ReturnType<typeof signer>;

const CHAIN = "7b0c3a52-9a4e-4c59-8a61-1f2d3c4b5a69";
const actions = ["retention.update", "ae-titles.add", "hold-queue.purge", "result.received", "result.acked", "auth.sign_in"];

function makeFields(random: () => number, seq: number, prevHash: string): EntryFields {
  const i = Math.floor(random() * 1e6);
  return {
    chain: CHAIN,
    seq,
    at: new Date(Date.UTC(2026, 10, 1) + seq * 1000).toISOString().replace("Z", "123Z"),
    actor: { userId: `u-${i % 17}`, name: `User ${i % 17}`, email: `u${i % 17}@northside.test`, roles: ["tenant_admin"] },
    action: actions[i % actions.length]!,
    target: `result:${i}`,
    reason: i % 3 ? null : `reason ${i}`,
    before: i % 2 ? { ttlDays: i % 30, note: "é ✓ \"quoted\"" } : null,
    after: { ttlDays: (i + 1) % 30, list: [1, 2, { z: 1, a: 2 }] },
    requestId: `req-${i}`,
    source: i % 4 ? "console" : "engine",
    prevHash,
  };
}

type Line = { text: string; seq: number | null };

function buildExport(canon: string[], signers: Signer, checkpointSeqs: number[], hashes: string[]): Line[] {
  const header = { header: { format: EXPORT_FORMAT, chain: CHAIN, tenant: "northside", complete: true, exportedAt: "2026-11-22T00:00:00.000000Z", publicKey: signers.publicKey } };
  const lines: Line[] = [{ text: JSON.stringify(header), seq: null }];
  for (const seq of checkpointSeqs) {
    const c = { chain: CHAIN, seq, hash: hashes[seq - 1]!, at: "2026-11-22T00:00:00.000000Z" };
    lines.push({ text: canonicalJson({ checkpoint: { ...c, keyId: signers.keyId, signature: signers.sign(checkpointMessage(c)) } }), seq: null });
  }
  canon.forEach((c, i) => lines.push({ text: entryLine(c, hashes[i]!), seq: i + 1 }));
  return lines;
}

/**
 * What a forger who rewrites the tail consistently does: entry `from` becomes `forged`, and every entry after it
 * gets a new prevHash and hash (only the fixed head of its canonical bytes changes).
 */
function rewriteFrom(canon: string[], hashes: string[], from: number, forged: EntryFields) {
  const c = [...canon];
  const h = [...hashes];
  c[from] = entryCanonical(forged);
  h[from] = sha256Hex(c[from]!);
  for (let i = from + 1; i < c.length; i++) {
    const at = c[i]!.indexOf(',"prevHash":"') + ',"prevHash":"'.length;
    c[i] = c[i]!.slice(0, at) + h[i - 1] + c[i]!.slice(at + 64);
    h[i] = sha256Hex(c[i]!);
  }
  return { canon: c, hashes: h };
}

describe("the audit verifier", () => {
  const random = rng(SEED);
  const key = signer();
  const fields: EntryFields[] = [];
  const canon: string[] = [];
  const hashes: string[] = [];
  for (let seq = 1; seq <= ENTRIES; seq++) {
    const f = makeFields(random, seq, hashes[seq - 2] ?? GENESIS_HASH);
    fields.push(f);
    canon.push(entryCanonical(f));
    hashes.push(entryHash(f));
  }
  const cps = Array.from({ length: ENTRIES / CHECKPOINT_EVERY }, (_, i) => (i + 1) * CHECKPOINT_EVERY);
  const pristine = buildExport(canon, key, cps, hashes);
  const firstEntryLine = 1 + cps.length; // index of seq 1 in `pristine`
  const verify = (lines: Line[]) => verifyLines(lines.map((l) => l.text), { trustedKeys: [key.publicKey] });

  it("hashes entries with the canonical encoding written down in docs/audit-format.md", () => {
    for (const f of fields.slice(0, 200)) {
      const { chain, seq, prevHash, ...rest } = f;
      const head = `{"v":1,"chain":${JSON.stringify(chain)},"seq":${seq},"prevHash":"${prevHash}",`;
      expect(entryCanonical(f)).toBe(head + canonicalJson(rest).slice(1));
    }
  });

  it("verifies the untampered chain, and refuses it against a key the auditor does not trust", () => {
    const report = verify(pristine);
    expect(report).toMatchObject({ ok: true, entries: ENTRIES, checkpoints: cps.length, firstSeq: 1, lastSeq: ENTRIES, firstProblem: null });
    const other = signer();
    expect(verifyLines(pristine.map((l) => l.text), { trustedKeys: [other.publicKey] }).firstProblem?.problem).toMatch(/not a trusted key/);
  });

  it(`catches and locates ${TAMPERINGS} random tamperings (seed ${SEED})`, () => {
    const kinds = ["edit", "edit-rehash", "rewrite-tail", "delete", "insert", "swap", "truncate", "resign"] as const;
    const caught: Record<string, number> = {};
    const pick = (n: number) => Math.floor(random() * n);
    for (let t = 0; t < TAMPERINGS; t++) {
      const kind = kinds[t % kinds.length]!;
      const k = pick(ENTRIES); // index of the entry tampered with (its seq is k + 1)
      let lines: Line[];
      /** where the problem must be reported: a sequence number (a line number for swaps) */
      let expectSeq: number;
      switch (kind) {
        case "edit": {
          // Change one field and keep the stored hash.
          const f = { ...fields[k]!, target: `${fields[k]!.target}-forged` };
          lines = [...pristine];
          lines[firstEntryLine + k] = { text: entryLine(entryCanonical(f), hashes[k]!), seq: f.seq };
          expectSeq = k + 1;
          break;
        }
        case "edit-rehash": {
          // Change one entry and fix its own hash: the next link (or its checkpoint) no longer agrees.
          const f = { ...fields[k]!, reason: "forged reason" };
          lines = [...pristine];
          lines[firstEntryLine + k] = { text: entryLine(entryCanonical(f), entryHash(f)), seq: f.seq };
          expectSeq = (k + 1) % CHECKPOINT_EVERY === 0 ? k + 1 : k + 2;
          break;
        }
        case "rewrite-tail": {
          // Change one entry and re-hash everything after it: only the next signed checkpoint can tell.
          const r = rewriteFrom(canon, hashes, k, { ...fields[k]!, after: { forged: true } });
          lines = [...pristine.slice(0, firstEntryLine), ...buildExport(r.canon, key, [], r.hashes).slice(1)];
          expectSeq = Math.ceil((k + 1) / CHECKPOINT_EVERY) * CHECKPOINT_EVERY;
          break;
        }
        case "delete": {
          lines = pristine.filter((_, i) => i !== firstEntryLine + k);
          // A deleted last entry shows as a truncated chain (the final checkpoint covers it).
          expectSeq = k === ENTRIES - 1 ? k : k + 2;
          break;
        }
        case "insert": {
          // A forged entry that claims the next sequence number and links correctly to the one before it.
          // (Not after the last entry: a forged tail past the last checkpoint is what the next checkpoint catches.)
          const at = Math.min(k, ENTRIES - 2);
          const f = makeFields(random, at + 2, hashes[at]!);
          lines = [...pristine];
          lines.splice(firstEntryLine + at + 1, 0, { text: entryLine(entryCanonical(f), entryHash(f)), seq: f.seq });
          // Caught at seq at+2: where the genuine entry follows it, or at the checkpoint the forgery claims.
          expectSeq = at + 2;
          break;
        }
        case "swap": {
          const j = (k + 1 + pick(ENTRIES - 1)) % ENTRIES;
          const [a, b] = [Math.min(k, j), Math.max(k, j)];
          lines = [...pristine];
          [lines[firstEntryLine + a], lines[firstEntryLine + b]] = [lines[firstEntryLine + b]!, lines[firstEntryLine + a]!];
          // The first swapped position now holds a later entry: caught on that line (line numbers start at 1).
          expectSeq = firstEntryLine + a + 1;
          break;
        }
        case "truncate": {
          // Drop the tail from some entry on, past the last checkpoint.
          const from = Math.max(1, k);
          lines = pristine.slice(0, firstEntryLine + from);
          expectSeq = from;
          break;
        }
        case "resign": {
          // Rewrite from entry k on, re-hash, and re-sign every checkpoint with a key of the forger's own.
          const forger = signer();
          const r = rewriteFrom(canon, hashes, k, { ...fields[k]!, actor: { userId: "forger" } });
          lines = buildExport(r.canon, forger, cps, r.hashes);
          expectSeq = cps[0]!; // the first checkpoint's signer is not trusted
          break;
        }
      }
      const report = verify(lines);
      expect(report.ok, `${kind} at seq ${k + 1} went unnoticed`).toBe(false);
      if (kind === "swap") {
        expect(report.firstProblem!.line, `${kind}: ${report.firstProblem!.problem}`).toBe(expectSeq);
      } else {
        expect(report.firstProblem!.seq, `${kind} at seq ${k + 1}: ${report.firstProblem!.problem}`).toBe(expectSeq);
      }
      caught[kind] = (caught[kind] ?? 0) + 1;
    }
    expect(Object.values(caught).reduce((a, b) => a + b, 0)).toBe(TAMPERINGS);
  }, 120_000);

  it("explains malformed exports instead of throwing", () => {
    expect(verifyLines(["not json"]).firstProblem?.problem).toMatch(/not JSON/);
    expect(verifyLines([]).firstProblem?.problem).toMatch(/empty/);
    expect(verifyLines([pristine[firstEntryLine]!.text]).firstProblem?.problem).toMatch(/header/);
  });
});
