// How the pipeline reaches each kind of source and target: extract a study from a source (C-GET, C-MOVE, or the
// files a filesystem/DICOMDIR discovery recorded), send files to a target (C-STORE exactly as stored, or STOW-RS)
// and retrieve the study back from the target for verification (C-GET, or WADO-RS).
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import type { MigrationPlan } from "../api/contract";
import { stowFiles, wadoStudy } from "../dicom/dicomweb";
import { getStudy, moveStudy, type MoveDestination } from "../dicom/retrieve";
import { forwardExact } from "../dicom/store-exact";
import { exportStudy, studyFiles } from "./export-target";
import type { EngineDb } from "../store/db";
import { migrationSourceFiles } from "../store/schema";

type Source = MigrationPlan["sources"][number];
type Target = MigrationPlan["target"];

/** An extracted file, and for a filesystem source the file it was copied from (a reviewer's evidence names it). */
export type ExtractedFile = { file: string; sourcePath?: string };

export async function extractStudy(
  db: EngineDb,
  migrationId: string,
  source: Source,
  studyInstanceUid: string,
  dir: string,
  moveDestination: MoveDestination | undefined,
): Promise<ExtractedFile[]> {
  if (source.kind === "dicom") return (await fromArchive(source, studyInstanceUid, dir, moveDestination)).map((file) => ({ file }));
  const rows = await db
    .select({ path: migrationSourceFiles.path })
    .from(migrationSourceFiles)
    .where(and(eq(migrationSourceFiles.migrationId, migrationId), eq(migrationSourceFiles.sourceId, source.id), eq(migrationSourceFiles.studyInstanceUid, studyInstanceUid)));
  await mkdir(dir, { recursive: true });
  // Copies, so transformations never touch the source media.
  return Promise.all(
    rows.map(async (r, i) => {
      const to = path.join(dir, `${i}.dcm`);
      await copyFile(r.path, to).catch((e: Error) => {
        throw new Error(`${r.path} could not be read: ${e.message}`);
      });
      return { file: to, sourcePath: r.path };
    }),
  );
}

function fromArchive(source: Extract<Source, { kind: "dicom" }>, studyInstanceUid: string, dir: string, moveDestination: MoveDestination | undefined) {
  if (source.retrieve === "c-get") return getStudy(source, studyInstanceUid, dir);
  if (!moveDestination) throw new Error("C-MOVE retrieval needs ENGINE_MOVE_PORT (and the archive configured to send to ENGINE_MOVE_AE_TITLE there)");
  return moveStudy(source, studyInstanceUid, dir, moveDestination);
}

/** Sends the study's files: C-STORE one instance at a time, or one STOW-RS request; `attempt` wraps each unit (retries). */
export async function sendToTarget(
  target: Target,
  instances: { file: string; sopInstanceUid: string; sopClassUid: string; transferSyntaxUid: string }[],
  attempt: <T>(what: () => Promise<T>, unit: string | null) => Promise<T>,
) {
  if (target.kind === "stow-rs") return attempt(() => stowFiles(target.url, instances.map((i) => i.file)), null);
  // The plan's path was resolved inside the tenant's export folder when the plan was accepted.
  if (target.kind === "filesystem") return attempt(() => exportStudy(target.path, instances.map((i) => i.file)), null);
  for (const inst of instances) await attempt(() => forwardExact(inst.file, inst, target, target.callingAeTitle), inst.sopInstanceUid);
}

export function retrieveFromTarget(target: Target, studyInstanceUid: string, dir: string, moveDestination: MoveDestination | undefined) {
  if (target.kind === "stow-rs") return wadoStudy(target.url, studyInstanceUid, dir);
  if (target.kind === "filesystem") return studyFiles(target.path, studyInstanceUid);
  if (target.retrieve === "c-get") return getStudy(target, studyInstanceUid, dir);
  if (!moveDestination) throw new Error("C-MOVE retrieval needs ENGINE_MOVE_PORT (and the archive configured to send to ENGINE_MOVE_AE_TITLE there)");
  return moveStudy(target, studyInstanceUid, dir, moveDestination);
}
