// Studies for migration tests, built from the real pydicom test files: every copy gets new study, series and SOP
// instance UIDs (dcmodify -gst -gse -gin), its own patient, date and time, so one file becomes many studies.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
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
