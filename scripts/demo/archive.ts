// The demo's legacy archive: a folder of Part 10 files made from the real pydicom test files, each study with new
// UIDs, its own patient and a date spread over several years. A few are deliberately faulty, so the demo migration
// quarantines them for the same reasons a real archive would: pixel data cut short, and a Specific Character Set
// that names no DICOM character set. One dcmodify call per study (all of its files at once), not per file.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, rename, rm, stat, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const PYDICOM_TEST_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
// Modality, source file, and how many instances a study of that kind has (one series each).
const KINDS = [
  { modality: "CT", file: "CT_small.dcm", instances: 24 },
  { modality: "MR", file: "MR_small.dcm", instances: 16 },
  { modality: "OT", file: "SC_rgb_small_odd.dcm", instances: 2 },
  { modality: "RTDOSE", file: "rtdose.dcm", instances: 1 },
] as const;

const newUid = () => `2.25.${BigInt(`0x${randomBytes(15).toString("hex")}`)}`;

export type DemoArchive = { dir: string; studies: number; instances: number; faulty: { studyInstanceUid: string; fault: string }[] };

/** Writes the archive into `dir` (once: an existing complete archive is kept, so restarts are fast). */
export async function makeDemoArchive(dir: string, studies = 120): Promise<DemoArchive> {
  const done = path.join(dir, "ARCHIVE.JSON");
  const existing = await readFile(done, "utf8").catch(() => null);
  if (existing) return JSON.parse(existing) as DemoArchive;
  const tmp = `${dir}.partial-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const archive: DemoArchive = { dir, studies, instances: 0, faulty: [] };
  const dateOf = (s: number) => `${2016 + (s % 9)}${String(1 + (s % 12)).padStart(2, "0")}${String(1 + (s % 28)).padStart(2, "0")}`;
  // The engine takes studies oldest first (by study date): the faulty ones are the two oldest, so they reach the
  // quarantine within a minute of the first start rather than an hour into the capped run.
  const [first, second] = Array.from({ length: studies }, (_, s) => s).sort((a, b) => dateOf(a).localeCompare(dateOf(b)) || a - b);
  for (let s = 0; s < studies; s++) {
    const kind = KINDS[s % KINDS.length]!;
    const date = dateOf(s);
    const [study, series] = [newUid(), newUid()];
    const folder = path.join(tmp, `patient${String(s % 60).padStart(3, "0")}`, `study${String(s).padStart(4, "0")}`);
    await mkdir(folder, { recursive: true });
    const files = await Promise.all(
      Array.from({ length: kind.instances }, async (_, i) => {
        const f = path.join(folder, `im${String(i + 1).padStart(4, "0")}.dcm`);
        await copyFile(path.join(PYDICOM_TEST_FILES, kind.file), f);
        return f;
      }),
    );
    const fault = s === second ? "bad character set" : s === first ? "truncated pixel data" : null;
    await run("dcmodify", [
      "-nb", "-gin",
      "-i", `(0020,000D)=${study}`, "-i", `(0020,000E)=${series}`,
      "-i", `(0008,0020)=${date}`, "-i", `(0010,0020)=DEMO-${String(s % 60).padStart(4, "0")}`, "-i", `(0010,0010)=Demo^Patient${s % 60}`,
      ...(fault === "bad character set" ? ["-i", "(0008,0005)=ISO_IR 999"] : []),
      ...files,
    ]);
    // Cut one instance's pixel data short, as a failed disk or an interrupted copy would.
    if (fault === "truncated pixel data") await truncate(files[0]!, (await stat(files[0]!)).size - 100);
    if (fault) archive.faulty.push({ studyInstanceUid: study, fault });
    archive.instances += files.length;
  }
  await writeFile(path.join(tmp, "ARCHIVE.JSON"), JSON.stringify(archive, null, 2));
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(tmp, dir);
  return archive;
}
