// Filesystem sources: a folder tree of Part 10 files, or a DICOMDIR (PS3.10 media) whose image-level records name
// the files. Either way each file's own header says which study it belongs to, so a DICOMDIR is read only for its
// list of referenced files (its hierarchy would only repeat what the files say). Files that are not Part 10
// (no DICM prefix) are counted and reported, not guessed at.
import { open, readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import dicomParser from "dicom-parser";
import { datasetOffset, parseHeader } from "../dicom/part10";
import { isDicomDate, isDicomUid } from "./discovery";

export type SourceFile = { path: string; studyInstanceUid: string; studyDate: string | null; modality: string | null };
export type FilesystemListing = { files: SourceFile[]; skipped: { path: string; reason: string }[] };

const HEAD_BYTES = 64 * 1024;

async function readHead(file: string) {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

/** The files a DICOMDIR's records reference (Referenced File ID (0004,1500), components joined by backslashes). */
async function dicomdirFiles(dicomdir: string): Promise<string[]> {
  const bytes = await readFile(dicomdir);
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes);
  } catch (e) {
    throw new Error(`${dicomdir} is not a readable DICOMDIR: ${e instanceof Error ? e.message : e}`);
  }
  const records = ds.elements.x00041220?.items;
  if (!records) throw new Error(`${dicomdir} has no Directory Record Sequence (0004,1220): not a DICOMDIR`);
  const root = path.dirname(dicomdir);
  const files: string[] = [];
  for (const item of records) {
    const id = item.dataSet?.string("x00041500")?.trim();
    if (!id) continue;
    const parts = id.split("\\").filter(Boolean);
    if (parts.some((p) => p === ".." || p.includes("/"))) throw new Error(`${dicomdir}: Referenced File ID "${id}" points outside the media`);
    files.push(path.join(root, ...parts));
  }
  return files;
}

/**
 * A source path as the absolute path the engine will read, or why the plan may not read it. Filesystem sources are
 * confined to the tenant's own folder under the engine's import root (relative paths start there; symbolic links
 * are resolved), so no plan can read another tenant's media or the host's files.
 */
export async function resolveImportPath(sourcePath: string, importRoot: string | undefined, slug: string): Promise<{ path: string } | { problem: string }> {
  if (!importRoot) return { problem: "this engine takes no filesystem sources (ENGINE_IMPORT_ROOT is not set)" };
  const allowed = path.join(importRoot, slug);
  const real = await realpath(path.resolve(allowed, sourcePath)).catch(() => null);
  if (!real) return { problem: `${sourcePath} does not exist or the engine cannot read it` };
  const root = await realpath(allowed).catch(() => allowed);
  if (real !== root && !real.startsWith(root + path.sep)) return { problem: `${sourcePath} is outside this tenant's import folder (${allowed})` };
  return { path: real };
}

/** Every Part 10 file under the source path (a folder, or a DICOMDIR file), with its study. */
export async function listSourceFiles(sourcePath: string): Promise<FilesystemListing> {
  const info = await stat(sourcePath).catch(() => null);
  if (!info) throw new Error(`${sourcePath} does not exist or cannot be read by the engine`);
  const candidates = info.isDirectory() ? walk(sourcePath) : (await dicomdirFiles(sourcePath))[Symbol.iterator]();
  const listing: FilesystemListing = { files: [], skipped: [] };
  for await (const file of candidates as AsyncIterable<string>) {
    if (path.basename(file).toUpperCase() === "DICOMDIR") continue;
    const head = await readHead(file).catch((e: Error) => {
      listing.skipped.push({ path: file, reason: `unreadable: ${e.message}` });
      return null;
    });
    if (!head) continue;
    if (datasetOffset(head) === null) {
      listing.skipped.push({ path: file, reason: "not a DICOM Part 10 file" });
      continue;
    }
    const ds = parseHeader(head, "x0020000e");
    const value = (tag: string) => ds?.string(tag)?.replace(/\0/g, "").trim() || null;
    const studyInstanceUid = value("x0020000d");
    if (!studyInstanceUid) {
      listing.skipped.push({ path: file, reason: "no Study Instance UID in its header" });
      continue;
    }
    // A header read as garbage (a file written in a transfer syntax it does not follow) is named, not migrated
    // under a study no archive could hold.
    if (!isDicomUid(studyInstanceUid)) {
      listing.skipped.push({ path: file, reason: `its Study Instance UID ${JSON.stringify(studyInstanceUid.slice(0, 70))} is not a valid UID: the header cannot be read as its transfer syntax says` });
      continue;
    }
    listing.files.push({ path: file, studyInstanceUid, studyDate: value("x00080020"), modality: value("x00080060") });
  }
  return listing;
}

/** Files grouped into studies, filtered like a C-FIND would be: study date range and modalities. */
export function studiesOf(files: SourceFile[], filters: { from: string; to: string; modalities: string[] }) {
  const byStudy = new Map<string, { studyInstanceUid: string; studyDate: string | null; modalities: Set<string>; paths: string[] }>();
  for (const f of files) {
    const s = byStudy.get(f.studyInstanceUid) ?? { studyInstanceUid: f.studyInstanceUid, studyDate: f.studyDate, modalities: new Set<string>(), paths: [] };
    if (f.modality) s.modalities.add(f.modality);
    s.paths.push(f.path);
    byStudy.set(f.studyInstanceUid, s);
  }
  const from = filters.from.replaceAll("-", "");
  const to = filters.to.replaceAll("-", "");
  return [...byStudy.values()]
    // A study without a usable StudyDate cannot be placed in or out of the range: it is kept, not dropped.
    .filter((s) => !isDicomDate(s.studyDate) || (s.studyDate! >= from && s.studyDate! <= to))
    .filter((s) => !filters.modalities.length || filters.modalities.some((m) => s.modalities.has(m)))
    .map((s) => ({ studyInstanceUid: s.studyInstanceUid, studyDate: s.studyDate, modalities: [...s.modalities], instances: s.paths.length, paths: s.paths }));
}
