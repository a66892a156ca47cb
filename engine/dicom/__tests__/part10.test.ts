// Reading the hold queue's header elements from the start of a Part 10 file, as the ingest path does while an
// instance arrives: a prefix that stops before the last of them says so (null), the whole header reads them.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PYDICOM_TEST_FILES } from "../../../test/dcmtk";
import { readHeaderFields } from "../part10";

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
});
