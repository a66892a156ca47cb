// Reading the hold queue's header elements from the start of a Part 10 file, as the ingest path does while an
// instance arrives: a prefix that stops before the last of them says so (null), the whole header reads them.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PYDICOM_TEST_FILES } from "../../../test/dcmtk";
import { parseHeader, readHeaderFields } from "../part10";

describe("header fields from a prefix", () => {
  const ct = readFileSync(path.join(PYDICOM_TEST_FILES, "CT_small.dcm"));
  const expected = { modality: "CT", studyInstanceUid: "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322", seriesInstanceUid: "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322" };

  it("reads modality, study and series from a prefix that holds them", () => {
    expect(readHeaderFields(ct.subarray(0, 4096), true)).toEqual(expected);
    expect(readHeaderFields(ct)).toEqual(expected);
  });

  it("a prefix cut before the series UID is incomplete (null), or partial when asked for what it has", () => {
    const seriesAt = ct.indexOf(Buffer.from([0x20, 0x00, 0x0e, 0x00]));
    expect(seriesAt).toBeGreaterThan(0);
    const cut = ct.subarray(0, seriesAt);
    expect(readHeaderFields(cut, true)).toBeNull();
    expect(readHeaderFields(cut)).toEqual({ ...expected, seriesInstanceUid: null });
  });

  it("a dataset without a series UID still yields what it has", () => {
    expect(readHeaderFields(Buffer.from("not dicom at all"))).toEqual({ studyInstanceUid: null, seriesInstanceUid: null, modality: null });
  });

  it("reads every file pydicom ships as dicom-parser reads it, whole and from prefixes", () => {
    const files = readdirSync(PYDICOM_TEST_FILES).filter((f) => f.endsWith(".dcm"));
    expect(files.length).toBeGreaterThan(50);
    let withSeries = 0;
    for (const f of files) {
      const bytes = readFileSync(path.join(PYDICOM_TEST_FILES, f));
      for (const cut of [bytes.length, 16384, 4096, 700]) {
        const prefix = bytes.subarray(0, cut);
        const ds = parseHeader(prefix, "x0020000e");
        const v = (tag: string) => {
          try {
            return ds?.string(tag)?.trim() || null;
          } catch {
            return null;
          }
        };
        const reference = { studyInstanceUid: v("x0020000d"), seriesInstanceUid: v("x0020000e"), modality: v("x00080060") };
        // A prefix cut inside an element may end sooner here than in dicom-parser: compare complete reads only.
        const complete = readHeaderFields(prefix, true);
        if (complete) expect({ file: f, cut, fields: complete }).toEqual({ file: f, cut, fields: reference });
        if (cut === bytes.length) expect({ file: f, fields: readHeaderFields(prefix) }).toEqual({ file: f, fields: reference });
        if (complete && cut === bytes.length) withSeries++;
      }
    }
    expect(withSeries).toBeGreaterThan(40);
  });
});
