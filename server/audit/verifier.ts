// The audit verifier: everything needed to check an export of the audit log, in one self-contained module that
// an auditor can read in one sitting. It imports nothing but node:crypto (no application code, no database), so
// it runs anywhere Node runs. The format it checks is docs/audit-format.md; the console hashes entries with
// `entryHash` below and signs checkpoints with the message `checkpointMessage` builds. The migration-record check
// also uses the engine's study-record.ts, which likewise imports only node:crypto.
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import { reportSha256, studyRecordCanonical, studyRecordHash, type StudyRecord } from "../../engine/migration/study-record";

export const GENESIS_HASH = "0".repeat(64);
export const EXPORT_FORMAT = "imgops-audit-export/1";

/** JSON with object keys sorted by code point, no insignificant whitespace, undefined-valued keys omitted. */
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

/** The hashed content of an entry: every key is always present (null when empty). */
export type EntryFields = {
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

/**
 * The bytes an entry's hash covers: a JSON object whose first four keys are, in this order, `v` (1), `chain`,
 * `seq` and `prevHash`, followed by the remaining keys sorted by code point, every value in canonical JSON. The
 * fixed head lets a verifier read the chain links without parsing the whole entry.
 */
export function entryCanonical(f: EntryFields): string {
  const c = canonicalJson;
  return (
    `{"v":1,"chain":${c(f.chain)},"seq":${c(f.seq)},"prevHash":${c(f.prevHash)},` +
    `"action":${c(f.action)},"actor":${c(f.actor)},"after":${c(f.after)},"at":${c(f.at)},"before":${c(f.before)},` +
    `"reason":${c(f.reason)},"requestId":${c(f.requestId)},"source":${c(f.source)},"target":${c(f.target)}}`
  );
}

export const sha256Hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
export const entryHash = (f: EntryFields) => sha256Hex(entryCanonical(f));

/** One export line per entry: `{"entry":<canonical entry>,"hash":"<hex>"}`, itself canonical JSON. */
export const entryLine = (canonicalEntry: string, hash: string) => `{"entry":${canonicalEntry},"hash":"${hash}"}`;
const ENTRY_PREFIX = '{"entry":';
const ENTRY_SUFFIX_LENGTH = ',"hash":"'.length + 64 + '"}'.length;
const PREV_HASH_KEY = ',"prevHash":"';


export type Checkpoint = { chain: string; seq: number; hash: string; at: string; keyId: string; signature: string };

/** The bytes an Ed25519 checkpoint signature covers. */
export const checkpointMessage = (c: Pick<Checkpoint, "chain" | "seq" | "hash" | "at">) =>
  Buffer.from(canonicalJson({ v: 1, kind: "audit-checkpoint", chain: c.chain, seq: c.seq, hash: c.hash, at: c.at }), "utf8");

/** A public key's id: the first 16 hex digits of SHA-256 over its raw 32 bytes. */
export const keyIdOf = (publicKeyRaw: Buffer) => createHash("sha256").update(publicKeyRaw).digest("hex").slice(0, 16);

/** Ed25519 public key from its raw 32 bytes (base64) or PEM. */
export function publicKeyFrom(text: string): { key: KeyObject; id: string } {
  const key = text.includes("BEGIN")
    ? createPublicKey(text)
    : createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(text, "base64")]), format: "der", type: "spki" });
  if (key.asymmetricKeyType !== "ed25519") throw new Error("the audit signing key must be an Ed25519 key");
  const raw = key.export({ format: "der", type: "spki" }).subarray(-32);
  return { key, id: keyIdOf(raw) };
}

export type Header = { format: string; chain: string; tenant: string | null; complete: boolean; exportedAt: string; publicKey: string | null; filter?: unknown };

export type Problem = { line: number; seq: number | null; problem: string };
export type Report = {
  ok: boolean;
  chain: string | null;
  complete: boolean;
  entries: number;
  checkpoints: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** the first problem found, located by line and sequence number; null when the export verifies */
  firstProblem: Problem | null;
  notes: string[];
};

type Options = {
  /** The keys the auditor trusts (raw base64 or PEM). Without them, the key named in the export is used, with a note. */
  trustedKeys?: string[];
};

/**
 * Verifies an export line by line: header, then checkpoints, then entries in sequence order (the order the
 * console writes). Each entry's hash must be the SHA-256 of its canonical bytes, each entry must link to the one
 * before it, a complete export must run from seq 1 without gaps, and every checkpoint must carry a valid
 * signature by a trusted key over an entry hash that the export agrees with. Stops at the first problem.
 */
export function createVerifier(opts: Options = {}) {
  let lineNo = 0;
  let header: Header | null = null;
  /** how every entry of this export's chain starts */
  let entryHead = "";
  const trusted = new Map<string, KeyObject>();
  for (const k of opts.trustedKeys ?? []) {
    const { key, id } = publicKeyFrom(k);
    trusted.set(id, key);
  }
  const checkpoints = new Map<number, Checkpoint>();
  const notes: string[] = [];
  let entries = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let lastHash = GENESIS_HASH;
  let lastCheckpointSeq = 0;
  let problem: Problem | null = null;
  let sawEntries = false;

  const fail = (seq: number | null, text: string) => {
    problem ??= { line: lineNo, seq, problem: text };
  };

  function onHeader(h: Header) {
    if (header || lineNo !== 1) return fail(null, "the header must be the first line, once");
    if (h.format !== EXPORT_FORMAT) return fail(null, `unknown export format ${JSON.stringify(h.format)} (expected ${EXPORT_FORMAT})`);
    header = h;
    entryHead = `{"v":1,"chain":${JSON.stringify(h.chain)},"seq":`;
    if (!trusted.size) {
      if (!h.publicKey) return fail(null, "no trusted public key given and none in the export");
      const { key, id } = publicKeyFrom(h.publicKey);
      trusted.set(id, key);
      notes.push("checkpoint signatures were checked against the public key named in the export itself; pass the key you trust to rule out a re-signed export");
    }
  }

  function onCheckpoint(c: Checkpoint) {
    if (sawEntries) return fail(c.seq, "checkpoints must come before the entries");
    if (c.chain !== header!.chain) return fail(c.seq, `checkpoint for chain ${c.chain} in an export of chain ${header!.chain}`);
    const key = trusted.get(c.keyId);
    if (!key) return fail(c.seq, `checkpoint at seq ${c.seq} is signed by key ${c.keyId}, which is not a trusted key`);
    if (!verify(null, checkpointMessage(c), key, Buffer.from(c.signature, "base64"))) {
      return fail(c.seq, `checkpoint at seq ${c.seq}: the signature does not verify (the checkpoint was altered or signed by another key)`);
    }
    checkpoints.set(c.seq, c);
  }

  /** The entry's seq and prevHash, read from its fixed head; null when the head is not in canonical form. */
  function readHead(canonical: string) {
    if (!canonical.startsWith(entryHead)) return null;
    const seqEnd = canonical.indexOf(",", entryHead.length);
    const seq = Number(canonical.slice(entryHead.length, seqEnd));
    if (!Number.isSafeInteger(seq) || seq < 1 || !canonical.startsWith(PREV_HASH_KEY, seqEnd)) return null;
    return { seq, prevHash: canonical.slice(seqEnd + PREV_HASH_KEY.length, seqEnd + PREV_HASH_KEY.length + 64) };
  }

  function onEntry(line: string) {
    sawEntries = true;
    // The line is `{"entry":<canonical entry>,"hash":"<hex>"}`: the hash covers exactly the bytes in between.
    const canonical = line.slice(ENTRY_PREFIX.length, line.length - ENTRY_SUFFIX_LENGTH);
    const stated = line.slice(line.length - 66, line.length - 2);
    const well = line.endsWith('"}') && line.startsWith(',"hash":"', line.length - ENTRY_SUFFIX_LENGTH);
    if (!well || sha256Hex(canonical) !== stated) {
      const seq = readHead(canonical)?.seq ?? null;
      return fail(seq, `${seq ? `entry seq ${seq}` : `line ${lineNo}`}: its contents do not match its hash (the entry was edited)`);
    }
    // The hash holds, so these are the bytes the console hashed: the links can be read from the entry's head.
    const links = readHead(canonical);
    if (!links) return fail(null, `line ${lineNo}: not an entry of chain ${header!.chain} in canonical form`);
    const { seq, prevHash } = links;
    if (lastSeq === null) {
      if (header!.complete && seq !== 1) return fail(seq, `the chain starts at seq ${seq}: entries 1..${seq - 1} are missing`);
      if (seq === 1 && prevHash !== GENESIS_HASH) return fail(seq, "entry seq 1 does not start from the genesis hash");
      firstSeq = seq;
    } else if (seq <= lastSeq) {
      return fail(seq, `entry seq ${seq} comes after seq ${lastSeq}: entries are out of order or duplicated`);
    } else if (seq > lastSeq + 1) {
      if (header!.complete) return fail(seq, `entries ${lastSeq + 1}..${seq - 1} are missing (deleted) before seq ${seq}`);
    } else if (prevHash !== lastHash) {
      return fail(seq, `entry seq ${seq} does not link to entry ${lastSeq} (an entry was inserted, removed or rewritten before it)`);
    }
    const cp = checkpoints.get(seq);
    if (cp) {
      if (cp.hash !== stated) {
        return fail(seq, `entries ${lastCheckpointSeq + 1}..${seq} differ from the signed checkpoint at seq ${seq} (they were rewritten and re-hashed)`);
      }
      lastCheckpointSeq = seq;
    }
    entries++;
    lastSeq = seq;
    lastHash = stated;
  }

  return {
    /** Feeds one line of the export (without its newline). */
    line(text: string) {
      lineNo++;
      if (problem || !text) return;
      // Entries (nearly every line) are checked on their bytes; only the few other lines are parsed.
      if (header && text.startsWith(ENTRY_PREFIX)) return onEntry(text);
      let record: { header?: Header; checkpoint?: Checkpoint };
      try {
        record = JSON.parse(text);
      } catch {
        return fail(null, `line ${lineNo} is not JSON`);
      }
      if (record.header) return onHeader(record.header);
      if (!header) return fail(null, "the export does not start with a header");
      if (record.checkpoint) return onCheckpoint(record.checkpoint);
      return fail(null, `line ${lineNo} is neither a header, a checkpoint nor an entry`);
    },
    finish(): Report {
      if (!problem && !header) fail(null, "the export is empty");
      if (!problem && header?.complete) {
        const beyond = [...checkpoints.keys()].filter((s) => s > (lastSeq ?? 0)).sort((a, b) => a - b)[0];
        if (beyond !== undefined) fail(lastSeq, `the chain ends at seq ${lastSeq ?? 0} but a signed checkpoint covers seq ${beyond}: entries were removed from the end`);
      }
      if (!problem && header && !header.complete) notes.push("a filtered export: each entry's hash and the links between consecutive entries were checked; gaps are expected");
      return {
        ok: !problem,
        chain: header?.chain ?? null,
        complete: header?.complete ?? false,
        entries,
        checkpoints: checkpoints.size,
        firstSeq,
        lastSeq,
        firstProblem: problem,
        notes,
      };
    },
    get failed() {
      return problem !== null;
    },
  };
}

/** Verifies a whole export given as lines. */
export function verifyLines(lines: Iterable<string>, opts: Options = {}): Report {
  const v = createVerifier(opts);
  for (const l of lines) {
    v.line(l);
    if (v.failed) break;
  }
  return v.finish();
}

/** The parts of an engine verification report (GET …/migrations/{id}/report) the record check reads. */
export type MigrationReportForCheck = { migrationId: string; reportSha256: string; studies: { record: StudyRecord; recordHash: string }[] } & Record<string, unknown>;
export type MigrationRecordProblem = { studyInstanceUid: string | null; seq: number | null; problem: string };
export type MigrationRecordReport = { ok: boolean; migrationId: string; studies: number; sealed: number; problems: MigrationRecordProblem[] };

/**
 * Checks an engine verification report against the audit chain: every migrated study's record, recomputed from the
 * report, must hash to the recordHash its `migration.study_migrated` entry sealed into the chain when it was
 * migrated (its latest: a study redone after a rollback is checked against the redo's). A record edited in the
 * engine database afterwards (a hash, a UID, an instance added or removed) then differs, and the study is named. Feed it the export's lines (after the chain itself verified), then finish.
 */
export function createMigrationRecordCheck(report: MigrationReportForCheck) {
  const sealed = new Map<string, { seq: number; recordHash: string; record: StudyRecord | null }>();
  const problems: MigrationRecordProblem[] = [];
  if (reportSha256(report) !== report.reportSha256) problems.push({ studyInstanceUid: null, seq: null, problem: "the report's content does not match its reportSha256: it was changed after the engine exported it" });
  return {
    line(text: string) {
      if (!text.startsWith(ENTRY_PREFIX)) return;
      // A rollback to a checkpoint put these studies back to be redone: their sealed records are history (kept in the
      // chain), and until a redo seals a new one the report rightly leaves them out.
      if (text.includes('"action":"migration.rolled_back"')) {
        const { entry } = JSON.parse(text) as { entry: { action: string; after: { migrationId?: string; studies?: { studyInstanceUid: string }[] } } };
        if (entry.action === "migration.rolled_back" && entry.after?.migrationId === report.migrationId) for (const s of entry.after.studies ?? []) sealed.delete(s.studyInstanceUid);
        return;
      }
      if (!text.includes('"action":"migration.study_migrated"')) return;
      const { entry } = JSON.parse(text) as { entry: { seq: number; action: string; after: { migrationId?: string; studyInstanceUid?: string; recordHash?: string; record?: StudyRecord } } };
      const a = entry.after;
      if (entry.action !== "migration.study_migrated" || a?.migrationId !== report.migrationId || !a.studyInstanceUid) return;
      if (!a.recordHash) return void problems.push({ studyInstanceUid: a.studyInstanceUid, seq: entry.seq, problem: `study ${a.studyInstanceUid}: its chain entry (seq ${entry.seq}) carries no recordHash (migrated before records were sealed)` });
      sealed.set(a.studyInstanceUid, { seq: entry.seq, recordHash: a.recordHash, record: a.record ?? null });
    },
    finish(): MigrationRecordReport {
      const inReport = new Set<string>();
      for (const s of report.studies) {
        const uid = s.record.studyInstanceUid;
        inReport.add(uid);
        const chain = sealed.get(uid);
        if (!chain) {
          problems.push({ studyInstanceUid: uid, seq: null, problem: `study ${uid}: the report says migrated, but the chain has no migration.study_migrated entry for it` });
          continue;
        }
        if (studyRecordHash(s.record) === chain.recordHash) continue;
        problems.push({ studyInstanceUid: uid, seq: chain.seq, problem: `study ${uid}: its record in the engine database differs from the one sealed in the chain at seq ${chain.seq} (edited afterwards)${chain.record ? `: ${recordDifference(chain.record, s.record)}` : ""}` });
      }
      for (const [uid, c] of sealed) if (!inReport.has(uid)) problems.push({ studyInstanceUid: uid, seq: c.seq, problem: `study ${uid}: sealed as migrated at seq ${c.seq}, but missing from the report` });
      return { ok: problems.length === 0, migrationId: report.migrationId, studies: report.studies.length, sealed: sealed.size, problems };
    },
  };
}

/** What changed between the sealed record and the report's, in a few words (the first differing field). */
function recordDifference(was: StudyRecord, now: StudyRecord): string {
  const before = new Map(was.instances.map((i) => [i.sourceSopInstanceUid, i]));
  for (const i of now.instances) {
    const w = before.get(i.sourceSopInstanceUid);
    if (!w) return `instance ${i.sourceSopInstanceUid} was not in the sealed record`;
    for (const k of ["targetSopInstanceUid", "sourceSha256", "expectedSha256", "targetSha256"] as const)
      if (w[k] !== i[k]) return `instance ${i.sourceSopInstanceUid} ${k} was ${w[k]}, the report says ${i[k]}`;
  }
  if (was.instances.length !== now.instances.length) return `${was.instances.length} instances were sealed, the report lists ${now.instances.length}`;
  return studyRecordCanonical(was) === studyRecordCanonical(now) ? "the sealed recordHash does not match its own record" : "the study's fields (UIDs, counts, time) differ";
}
