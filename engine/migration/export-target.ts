// Filesystem export target (offline hand-off, legal hold): a PS3.10 file-set under the tenant's export folder.
// Each study's Part 10 files are written exactly as extracted into a patient/study/series folder tree; DICOM file
// IDs allow only ≤8-character uppercase components, so names are derived from the UIDs (a hash, the same name on
// every retry) and each study folder keeps a MAP.JSON naming the UIDs behind every file. Files are written
// atomically (temp, fsync, rename) and the DICOMDIR is brought up to date once per study with DCMTK's
// `dcmmkdir +A` (one subprocess per study, never per instance), itself swapped in by rename.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, open, readFile, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import dicomParser from "dicom-parser";
import { parseHeader } from "../dicom/part10";

/**
 * A target path as the absolute folder the engine will write, or why the plan may not write there. Like filesystem
 * sources, export targets are confined to <exportRoot>/<tenant slug>/ (relative paths start there; symbolic links
 * are resolved); the folder is created if missing and must take a test file.
 */
export async function resolveExportPath(targetPath: string, exportRoot: string | undefined, slug: string): Promise<{ path: string } | { problem: string }> {
  if (!exportRoot) return { problem: "this engine takes no filesystem targets (ENGINE_EXPORT_ROOT is not set)" };
  const allowed = path.join(exportRoot, slug);
  const wanted = path.resolve(allowed, targetPath);
  const inside = (p: string, root: string) => p === root || p.startsWith(root + path.sep);
  if (!inside(wanted, allowed)) return { problem: `${targetPath} is outside this tenant's export folder (${allowed})` };
  const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  try {
    await mkdir(wanted, { recursive: true });
  } catch (e) {
    return { problem: `${targetPath} cannot be made a folder the engine writes to (${code(e)})` };
  }
  const real = await realpath(wanted);
  if (!inside(real, await realpath(allowed))) return { problem: `${targetPath} is outside this tenant's export folder (${allowed})` };
  const probe = path.join(real, `.write-test-${randomBytes(6).toString("hex")}`);
  try {
    await writeFile(probe, "");
    await rm(probe);
  } catch (e) {
    return { problem: `the engine cannot write to ${targetPath} (${code(e)})` };
  }
  return { path: real };
}

/** An uppercase ≤8-character DICOM file ID component for a UID: a letter for the level, 7 base32 characters of its hash. */
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
export function fileIdComponent(level: "P" | "S" | "R" | "I", value: string) {
  const digest = createHash("sha256").update(value).digest();
  let out = level;
  for (let i = 0; i < 7; i++) out += BASE32[digest[i]! % 32];
  return out;
}

type Header = { patientId: string; studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string };

async function headerOf(file: string): Promise<Header> {
  const fh = await open(file, "r");
  const head = Buffer.alloc(64 * 1024);
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  await fh.close();
  const ds = parseHeader(head.subarray(0, bytesRead), "x00200013");
  const value = (tag: string) => ds?.string(tag)?.replace(/\0/g, "").trim() ?? "";
  const h = { patientId: value("x00100020"), studyInstanceUid: value("x0020000d"), seriesInstanceUid: value("x0020000e"), sopInstanceUid: value("x00080018") || value("x00020003") };
  if (!h.studyInstanceUid || !h.seriesInstanceUid || !h.sopInstanceUid) throw new Error(`${path.basename(file)} lacks a study, series or SOP instance UID: it cannot be placed in a DICOM file-set`);
  return h;
}

async function fsyncPath(p: string) {
  const fh = await open(p, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Copies `from` to `to` so that `to` is either absent, the old file, or the complete new one (and durable). */
async function writeAtomically(from: string, to: string) {
  const tmp = path.join(path.dirname(to), `.tmp-${path.basename(to)}-${randomBytes(4).toString("hex")}`);
  try {
    await copyFile(from, tmp);
    await fsyncPath(tmp);
    await rename(tmp, to);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncPath(path.dirname(to));
}

const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<void>((resolve, reject) =>
    execFile(cmd, args, { cwd, env: { ...process.env, TCP_NODELAY: "1" } }, (err, _o, stderr) => (err ? reject(new Error(`${cmd}: ${String(stderr).trim() || err.message}`)) : resolve())),
  );

// One DICOMDIR update at a time per file-set: concurrent workers would otherwise lose each other's records.
const dicomdirTurns = new Map<string, Promise<unknown>>();
function inTurn<T>(root: string, what: () => Promise<T>): Promise<T> {
  const next = (dicomdirTurns.get(root) ?? Promise.resolve()).then(what, what);
  dicomdirTurns.set(root, next.catch(() => {}));
  return next;
}

/** The Referenced File IDs (0004,1500) the file-set's DICOMDIR lists, as relative paths with "/". */
export async function dicomdirFileIds(root: string): Promise<Set<string>> {
  const bytes = await readFile(path.join(root, "DICOMDIR")).catch(() => null);
  if (!bytes) return new Set();
  const ds = dicomParser.parseDicom(bytes);
  const ids = new Set<string>();
  for (const item of ds.elements.x00041220?.items ?? []) {
    const id = item.dataSet?.string("x00041500")?.trim();
    if (id) ids.add(id.split("\\").filter(Boolean).join("/"));
  }
  return ids;
}

/** Adds the files (relative to root) to the DICOMDIR: dcmmkdir appends into a copy, which replaces the DICOMDIR by rename. */
async function addToDicomdir(root: string, fileIds: string[]) {
  await inTurn(root, async () => {
    const listed = await dicomdirFileIds(root);
    const missing = fileIds.filter((f) => !listed.has(f)); // a retried study's files are listed already
    if (!missing.length) return;
    const dicomdir = path.join(root, "DICOMDIR");
    const tmp = path.join(root, `.tmp-DICOMDIR-${randomBytes(4).toString("hex")}`);
    const exists = await stat(dicomdir).then(() => true, () => false);
    try {
      if (exists) await copyFile(dicomdir, tmp);
      // +I: invent type 1 record attributes a source file lacks; -Nxc/-Nec/-Nrc: the files are kept exactly as
      // extracted, so a compressed or unusual encoding is recorded rather than refused.
      await run("dcmmkdir", ["-q", "+id", root, "+D", tmp, exists ? "+A" : "-A", "-nb", "+I", "-Nxc", "-Nec", "-Nrc", "+Nrs", ...missing], root);
      await fsyncPath(tmp);
      await rename(tmp, dicomdir);
      await fsyncPath(root);
    } finally {
      await rm(tmp, { force: true });
    }
  });
}

type Placed = { fileId: string; file: string } & Header;

async function placeStudy(root: string, files: string[]): Promise<Placed[]> {
  const placed: Placed[] = [];
  for (const file of files) {
    const h = await headerOf(file);
    const parts = [fileIdComponent("P", h.patientId), fileIdComponent("S", h.studyInstanceUid), fileIdComponent("R", h.seriesInstanceUid), fileIdComponent("I", h.sopInstanceUid)];
    placed.push({ ...h, file, fileId: parts.join("/") });
  }
  const seen = new Map<string, string>();
  for (const p of placed) {
    const other = seen.get(p.fileId);
    if (other && other !== p.sopInstanceUid) throw new Error(`instances ${other} and ${p.sopInstanceUid} map to the same file ID ${p.fileId}`);
    seen.set(p.fileId, p.sopInstanceUid);
  }
  return placed;
}

const mapFile = (root: string, patientId: string, studyInstanceUid: string) => path.join(root, fileIdComponent("P", patientId), fileIdComponent("S", studyInstanceUid), "MAP.JSON");

/** Writes the study's files into the file-set at `root` and lists them in its DICOMDIR. */
export async function exportStudy(root: string, files: string[]) {
  const placed = await placeStudy(root, files);
  for (const p of placed) {
    const to = path.join(root, ...p.fileId.split("/"));
    await mkdir(path.dirname(to), { recursive: true });
    await writeAtomically(p.file, to);
  }
  // The mapping from generated names back to UIDs, per study (the study folder's name is its study UID's hash).
  const byStudy = new Map<string, Placed[]>();
  for (const p of placed) byStudy.set(`${p.patientId}\\${p.studyInstanceUid}`, [...(byStudy.get(`${p.patientId}\\${p.studyInstanceUid}`) ?? []), p]);
  for (const group of byStudy.values()) {
    const first = group[0]!;
    const map = mapFile(root, first.patientId, first.studyInstanceUid);
    const previous = (await readFile(map, "utf8").then((t) => JSON.parse(t) as { files: Record<string, unknown> }, () => ({ files: {} }))).files;
    const entries = Object.fromEntries(group.map((p) => [p.fileId, { sopInstanceUid: p.sopInstanceUid, seriesInstanceUid: p.seriesInstanceUid }]));
    const body = JSON.stringify({ patientId: first.patientId, studyInstanceUid: first.studyInstanceUid, files: { ...previous, ...entries } }, null, 2);
    const tmp = `${map}.src-${randomBytes(4).toString("hex")}`;
    await writeFile(tmp, body);
    await writeAtomically(tmp, map).finally(() => rm(tmp, { force: true }));
  }
  await addToDicomdir(root, placed.map((p) => p.fileId));
}

/**
 * The study's files as the file-set holds them, for verification: the files its MAP.JSON names that the DICOMDIR
 * also lists (a file on disk the DICOMDIR does not reference is not on the medium). The pipeline re-reads and hashes
 * each one.
 */
export async function studyFiles(root: string, studyInstanceUid: string): Promise<string[]> {
  const listed = await dicomdirFileIds(root);
  const out: string[] = [];
  for (const fileId of listed) {
    const [p, s] = fileId.split("/");
    if (s !== fileIdComponent("S", studyInstanceUid)) continue;
    const map = await readFile(path.join(root, p!, s, "MAP.JSON"), "utf8").then((t) => JSON.parse(t) as { studyInstanceUid: string; files: Record<string, unknown> }, () => null);
    if (map?.studyInstanceUid !== studyInstanceUid || !(fileId in map.files)) continue;
    out.push(path.join(root, ...fileId.split("/")));
  }
  return out;
}
