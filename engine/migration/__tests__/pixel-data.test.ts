import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PYDICOM_TEST_FILES } from "../../../test/dcmtk";
import { parseHeader } from "../../dicom/part10";
import { pixelDataProblem } from "../pixel-data";

// What the pipeline reads: the first 64 KiB of the file, and its size.
const check = (bytes: Buffer, ts = "1.2.840.10008.1.2.1") => pixelDataProblem(parseHeader(bytes.subarray(0, 64 * 1024)), ts, bytes.length);
const file = (name: string) => readFileSync(path.join(PYDICOM_TEST_FILES, name));

describe("pixel data check", () => {
  it("passes whole files, large ones included (only their header is read)", () => {
    expect(check(file("CT_small.dcm"))).toBeNull();
    expect(check(file("MR_small.dcm"))).toBeNull();
    const large = file("SC_rgb_jpeg_dcmd.dcm"); // 256×256 RGB, implicit VR: the pixel data runs past what is read
    expect(large.length).toBeGreaterThan(64 * 1024);
    expect(check(large, "1.2.840.10008.1.2")).toBeNull();
    expect(check(file("JPEG2000.dcm"), "1.2.840.10008.1.2.4.90")).toBeNull(); // encapsulated: undefined length
  });

  it("finds pydicom's truncated MR and a file cut short in transit", () => {
    expect(check(file("MR_truncated.dcm"))).toMatchObject({ message: expect.stringMatching(/ends \d+ bytes before its Pixel Data/) });
    const ct = file("CT_small.dcm");
    expect(check(ct.subarray(0, ct.length - 1000))?.evidence).toMatchObject({ element: "(7FE0,0010) PixelData", bytesPresent: expect.any(Number) });
  });

  it("finds native pixel data shorter than its image needs", () => {
    // Declare 512 rows where the pixel data holds 128: the element is whole, the image is not.
    const ct = Buffer.from(file("CT_small.dcm"));
    const ds = parseHeader(ct)!;
    ct.writeUInt16LE(512, ds.elements.x00280010!.dataOffset);
    expect(check(ct)?.evidence).toMatchObject({ rows: 512, columns: 128, expectedBytes: 512 * 128 * 2, actualBytes: 128 * 128 * 2 });
  });
});
