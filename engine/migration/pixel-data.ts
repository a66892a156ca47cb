// A cheap check that an instance's pixel data is whole, from its header alone: a native (uncompressed) Pixel Data
// element must hold rows × columns × samples × frames × bytes per sample, and the file must not end before the
// element does. Encapsulated (compressed) pixel data is not decoded here; the file-length check still applies.
import type dicomParser from "dicom-parser";

const NATIVE = new Set(["1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"]);

export type PixelDataProblem = { message: string; evidence: Record<string, unknown> };

/** `ds` parsed from the start of the file through the Pixel Data element's header; null when nothing is wrong. */
export function pixelDataProblem(ds: dicomParser.DataSet | undefined, transferSyntaxUid: string, fileSize: number): PixelDataProblem | null {
  const pixels = ds?.elements.x7fe00010;
  // Encapsulated pixel data has an undefined length: its fragments end where the sequence delimiter says.
  if (!ds || !pixels || pixels.hadUndefinedLength) return null;
  const declaredEnd = pixels.dataOffset + pixels.length;
  if (declaredEnd > fileSize) {
    return {
      message: `the file ends ${declaredEnd - fileSize} bytes before its Pixel Data (7FE0,0010) does`,
      evidence: { element: "(7FE0,0010) PixelData", declaredLength: pixels.length, bytesPresent: fileSize - pixels.dataOffset },
    };
  }
  if (!NATIVE.has(transferSyntaxUid) || pixels.length <= 0) return null;
  const rows = ds.uint16("x00280010") ?? 0;
  const columns = ds.uint16("x00280011") ?? 0;
  const bitsAllocated = ds.uint16("x00280100") ?? 0;
  const samples = ds.uint16("x00280002") ?? 1;
  const frames = Number.parseInt(ds.string("x00280008") ?? "1", 10) || 1;
  const expected = Math.ceil((rows * columns * samples * frames * bitsAllocated) / 8);
  if (!expected || pixels.length >= expected) return null;
  return {
    message: `Pixel Data holds ${pixels.length} bytes where ${rows}×${columns}, ${samples} sample(s), ${frames} frame(s) at ${bitsAllocated} bits need ${expected}`,
    evidence: { element: "(7FE0,0010) PixelData", rows, columns, samplesPerPixel: samples, numberOfFrames: frames, bitsAllocated, expectedBytes: expected, actualBytes: pixels.length },
  };
}
