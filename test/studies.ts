// Studies for migration tests, built from the real pydicom test files: every copy gets new study, series and SOP
// instance UIDs (dcmodify -gst -gse -gin), its own patient, date and time, so one file becomes many studies.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PYDICOM_TEST_FILES } from "./dcmtk";

const SOURCES = { CT: "CT_small.dcm", MR: "MR_small.dcm", RTPLAN: "rtplan.dcm", RTDOSE: "rtdose.dcm", OT: "SC_rgb_small_odd.dcm" } as const;
export const MODALITIES = Object.keys(SOURCES) as (keyof typeof SOURCES)[];

export type MadeStudy = { file: string; modality: keyof typeof SOURCES; date: string };

export function makeStudies(count: number, dates: string[], modalities: (keyof typeof SOURCES)[] = ["CT", "MR"]): MadeStudy[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), "studies-"));
  return Array.from({ length: count }, (_, i) => {
    const modality = modalities[i % modalities.length]!;
    const date = dates[i % dates.length]!;
    const file = path.join(dir, `s${i}.dcm`);
    copyFileSync(path.join(PYDICOM_TEST_FILES, SOURCES[modality]), file);
    const time = `${String(8 + (i % 10)).padStart(2, "0")}${String((i * 7) % 60).padStart(2, "0")}00`;
    execFileSync("dcmodify", ["-nb", "-gst", "-gse", "-gin", "-i", `(0008,0020)=${date.replaceAll("-", "")}`, "-i", `(0008,0030)=${time}`, "-i", `(0010,0020)=PAT${i}`, file]);
    return { file, modality, date };
  });
}

const newUid = () => `2.25.${BigInt(`0x${randomBytes(15).toString("hex")}`)}`;

/**
 * One study of `count` slices made from a real CT file (a quarantine review's stack): shared study and series UIDs,
 * new SOP instance UIDs, instance numbers and positions. `pixels(i)` replaces slice i's pixel data with a file of
 * raw 16-bit values (with `extra` setting Rows and Columns to match).
 */
export function makeCtStudy(dir: string, count: number, opts: { file?: string; date?: string; patientId?: string; extra?: string[]; pixels?: (i: number) => string } = {}) {
  mkdirSync(dir, { recursive: true });
  const [study, series] = [newUid(), newUid()];
  return Array.from({ length: count }, (_, i) => {
    const f = path.join(dir, `slice-${String(i + 1).padStart(4, "0")}.dcm`);
    copyFileSync(path.join(PYDICOM_TEST_FILES, opts.file ?? "CT_small.dcm"), f);
    const pixels = opts.pixels ? ["-if", `(7FE0,0010)=${opts.pixels(i)}`] : [];
    execFileSync("dcmodify", ["-nb", "-gin", "-i", `(0020,000D)=${study}`, "-i", `(0020,000E)=${series}`, "-i", `(0020,0013)=${i + 1}`, "-i", `(0008,0020)=${(opts.date ?? "2024-03-01").replaceAll("-", "")}`, "-i", `(0010,0020)=${opts.patientId ?? "E2E-1"}`, "-i", `(0020,0032)=0\\0\\${i * 2}`, ...(opts.extra ?? []), ...pixels, f]);
    return f;
  });
}
