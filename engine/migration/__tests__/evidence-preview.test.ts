// The review screen's preview of an evidence instance (DCMTK dcmj2pnm): real files from pydicom's test data. A
// file dcmj2pnm cannot render, or one that is not DICOM at all, has no preview (the viewer then says why it cannot
// be decoded): never an error, never a blank image.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { evidencePreview, renderPreview } from "../evidence-preview";

const PYDICOM = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const size = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20), bitDepth: png[24], colorType: png[25] });

describe("evidence preview", () => {
  it("renders a CT slice (no VOI window in the file: min-max) as an 8-bit grayscale PNG of its size", async () => {
    const png = (await renderPreview(await readFile(`${PYDICOM}/CT_small.dcm`)))!;
    expect(png.subarray(0, 8)).toEqual(PNG);
    expect(size(png)).toEqual({ width: 128, height: 128, bitDepth: 8, colorType: 0 });
  });

  it("uses the file's own VOI window when it has one", async () => {
    const png = (await renderPreview(await readFile(`${PYDICOM}/MR_small.dcm`)))!;
    expect(size(png)).toMatchObject({ width: 64, height: 64 });
  });

  it("renders the first frame of a multi-frame instance (RLE), and colour as RGB", async () => {
    expect(size((await renderPreview(await readFile(`${PYDICOM}/SC_rgb_rle_2frame.dcm`)))!)).toMatchObject({ colorType: 2 });
  });

  it("has no preview for what dcmj2pnm cannot render", async () => {
    expect(await renderPreview(Buffer.from("not a DICOM file at all"))).toBeNull();
    expect(await renderPreview(await readFile(`${PYDICOM}/JPEG2000.dcm`))).toBeNull();
  });

  it("renders once per evidence id, concurrent callers sharing the render", async () => {
    let reads = 0;
    const read = async () => (reads++, readFile(`${PYDICOM}/CT_small.dcm`));
    const id = crypto.randomUUID();
    const [a, b] = await Promise.all([evidencePreview(id, read), evidencePreview(id, read)]);
    expect(a).toEqual(b);
    expect(await evidencePreview(id, read)).toBe(a);
    expect(reads).toBe(1);
  });
});
