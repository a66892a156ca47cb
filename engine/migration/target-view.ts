// A migrated study as the target holds it now, for a clinical reviewer's spot-check in the viewer: retrieved once
// into a scratch folder (kept a few minutes, so stepping through the images does not retrieve it again per image),
// and only for studies this migration recorded as migrated.
import { mkdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type { MigrationPlan } from "../api/contract";
import { parseHeader } from "../dicom/part10";
import type { EngineDb } from "../store/db";
import { migrationStudies } from "../store/schema";
import { retrieveFromTarget } from "./endpoints";
import type { MigrationRuntime } from "./pipeline";

const KEEP_MS = 10 * 60_000;
const retrieving = new Map<string, Promise<TargetStudy>>();
type TargetStudy = { files: Map<string, string>; at: number };
const cache = new Map<string, TargetStudy>();

async function sopOf(file: string) {
  const head = await readFile(file);
  const ds = parseHeader(head, "x7fe00010");
  return ds?.string("x00080018")?.replace(/\0/g, "").trim() || null;
}

async function retrieve(m: { id: string; plan: unknown }, targetStudyUid: string, runtime: MigrationRuntime): Promise<TargetStudy> {
  const dir = path.join(os.tmpdir(), "imgops-target-view", m.id, targetStudyUid);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files = await retrieveFromTarget((m.plan as MigrationPlan).target, targetStudyUid, dir, runtime.moveDestination);
  const bySop = new Map<string, string>();
  for (const f of files) {
    const sop = await sopOf(f).catch(() => null);
    if (sop) bySop.set(sop, f);
  }
  return { files: bySop, at: Date.now() };
}

/** The study's instances at the target (SOP Instance UID → file), or null when this migration did not migrate it. */
export async function targetStudy(db: EngineDb, m: { id: string; plan: unknown }, studyInstanceUid: string, runtime: MigrationRuntime) {
  const [row] = await db
    .select({ target: migrationStudies.targetStudyInstanceUid })
    .from(migrationStudies)
    .where(and(eq(migrationStudies.migrationId, m.id), eq(migrationStudies.studyInstanceUid, studyInstanceUid), eq(migrationStudies.status, "migrated")));
  if (!row) return null;
  const targetUid = row.target ?? studyInstanceUid;
  const key = `${m.id}/${targetUid}`;
  const kept = cache.get(key);
  if (kept && Date.now() - kept.at < KEEP_MS && (await Promise.all([...kept.files.values()].map((f) => stat(f).then(() => true, () => false)))).every(Boolean)) return kept;
  let pending = retrieving.get(key);
  if (!pending) {
    pending = retrieve(m, targetUid, runtime).finally(() => retrieving.delete(key));
    retrieving.set(key, pending);
  }
  const got = await pending;
  cache.set(key, got);
  return got;
}
