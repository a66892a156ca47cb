// Quarantine evidence: the instances a reviewer looks at, kept encrypted with the tenant's key in the blob store
// (like held results) and listed in quarantine_evidence. Written when a study is quarantined; a later quarantine
// of the same study replaces them, so the reviewer always judges the latest attempt.
import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { and, asc, eq } from "drizzle-orm";
import { parseHeader } from "../dicom/part10";
import type { BlobStore } from "../store/blob-store";
import type { EngineDb } from "../store/db";
import type { Keyring } from "../store/keyring";
import { quarantineEvidence } from "../store/schema";

export type EvidenceStore = { blobs: BlobStore; keyring: Keyring };
export type EvidenceFile = { file: string; side: "source" | "target" };
type StudyKey = { migrationId: string; sourceId: string; studyInstanceUid: string };

const studyWhere = (k: StudyKey) =>
  and(eq(quarantineEvidence.migrationId, k.migrationId), eq(quarantineEvidence.sourceId, k.sourceId), eq(quarantineEvidence.studyInstanceUid, k.studyInstanceUid));

/** SOP instance UID and instance number from the start of the file; either may be missing in a damaged file. */
async function identify(file: string) {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const ds = parseHeader(head.subarray(0, bytesRead), "x00200014");
    const read = (tag: string) => {
      try {
        return ds?.string(tag)?.replace(/\0/g, "").trim() || undefined;
      } catch {
        return undefined;
      }
    };
    const sop = read("x00080018") ?? read("x00020003");
    const num = Number(read("x00200013"));
    return { sopInstanceUid: sop ?? null, instanceNumber: Number.isFinite(num) ? num : null };
  } finally {
    await fh.close();
  }
}

/** Stores the files as the study's evidence (replacing earlier evidence of it), ordered by instance number. */
export async function keepEvidence(db: EngineDb, store: EvidenceStore, tenantSlug: string, key: StudyKey, files: EvidenceFile[]) {
  const dataKey = await store.keyring.dataKey(tenantSlug);
  const described = await Promise.all(files.map(async (f, i) => ({ ...f, i, ...(await identify(f.file).catch(() => ({ sopInstanceUid: null, instanceNumber: null }))) })));
  described.sort((a, b) => (a.side === b.side ? (a.instanceNumber ?? a.i) - (b.instanceNumber ?? b.i) || a.i - b.i : a.side === "source" ? -1 : 1));
  const rows: (typeof quarantineEvidence.$inferInsert)[] = [];
  for (const [position, f] of described.entries()) {
    const blobId = randomUUID();
    const w = store.blobs.writer(dataKey, tenantSlug, blobId);
    await pipeline(createReadStream(f.file), w.input);
    const { size, sha256 } = await w.done;
    rows.push({ id: randomUUID(), tenantSlug, ...key, side: f.side, sopInstanceUid: f.sopInstanceUid, position, blobId, sizeBytes: size, sha256 });
  }
  const replaced = await db.transaction(async (tx) => {
    const old = await tx.delete(quarantineEvidence).where(studyWhere(key)).returning({ blobId: quarantineEvidence.blobId });
    if (rows.length) await tx.insert(quarantineEvidence).values(rows);
    return old;
  });
  for (const o of replaced) await store.blobs.delete(tenantSlug, o.blobId);
  return rows.length;
}

export async function listEvidence(db: EngineDb, key: StudyKey) {
  return db.select().from(quarantineEvidence).where(studyWhere(key)).orderBy(asc(quarantineEvidence.side), asc(quarantineEvidence.position));
}

export async function findEvidence(db: EngineDb, key: StudyKey, id: string) {
  const [row] = await db.select().from(quarantineEvidence).where(and(studyWhere(key), eq(quarantineEvidence.id, id)));
  return row ?? null;
}

export async function readEvidence(store: EvidenceStore, row: { tenantSlug: string; blobId: string }) {
  return store.blobs.read(await store.keyring.dataKey(row.tenantSlug), row.tenantSlug, row.blobId);
}
