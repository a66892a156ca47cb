// DICOM Part 10 framing for received instances: a network C-STORE carries only the dataset, so the engine
// writes the 128-byte preamble, "DICM" and the File Meta Information group itself, then the dataset bytes exactly
// as received (no re-encoding).
import dicomParser from "dicom-parser";

export const IMPLEMENTATION_CLASS_UID = "2.25.216104863402932587317846236066476474513";
export const IMPLEMENTATION_VERSION = "IMGOPS_RELAY_1";

function element(group: number, elem: number, vr: string, value: Buffer) {
  const long = ["OB", "OW", "OF", "SQ", "UT", "UN"].includes(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, "latin1");
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

const padded = (s: string, pad: string) => Buffer.from(s.length % 2 ? s + pad : s, "latin1");
const ui = (s: string) => padded(s, "\0");
const text = (s: string) => padded(s, " ");

export function fileMetaHeader(m: { sopClassUid: string; sopInstanceUid: string; transferSyntaxUid: string; sourceAeTitle: string }) {
  const body = Buffer.concat([
    element(0x0002, 0x0001, "OB", Buffer.from([0, 1])),
    element(0x0002, 0x0002, "UI", ui(m.sopClassUid)),
    element(0x0002, 0x0003, "UI", ui(m.sopInstanceUid)),
    element(0x0002, 0x0010, "UI", ui(m.transferSyntaxUid)),
    element(0x0002, 0x0012, "UI", ui(IMPLEMENTATION_CLASS_UID)),
    element(0x0002, 0x0013, "SH", text(IMPLEMENTATION_VERSION)),
    element(0x0002, 0x0016, "AE", text(m.sourceAeTitle)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from("DICM"), element(0x0002, 0x0000, "UL", groupLength), body]);
}

export type HeaderFields = { studyInstanceUid: string | null; seriesInstanceUid: string | null; modality: string | null };

/**
 * Parses the start of a Part 10 file up to `untilTag` with dicom-parser, which only records element offsets. A
 * prefix cut short (or an element it cannot read) still yields the elements read before it stopped; undefined
 * when there are none.
 */
export function parseHeader(part10Prefix: Buffer, untilTag = "x7fe00010"): dicomParser.DataSet | undefined {
  try {
    return dicomParser.parseDicom(part10Prefix, { untilTag });
  } catch (e) {
    return (e as { dataSet?: dicomParser.DataSet }).dataSet;
  }
}

/** The last of the header elements the hold queue needs, in tag order (0008,0060) < (0020,000D) < (0020,000E). */
const LAST_HEADER_TAG = "x0020000e";

/**
 * The few header elements the hold queue needs, from the start of a Part 10 file (kept off the ingest profile).
 * Parsing stops at the last of them, which halves the cost on a typical CT header. With `onlyIfComplete`, null
 * unless the prefix reached that element (so a caller can try again with more bytes).
 */
export function readHeaderFields(part10Prefix: Buffer, onlyIfComplete?: false): HeaderFields;
export function readHeaderFields(part10Prefix: Buffer, onlyIfComplete: true): HeaderFields | null;
export function readHeaderFields(part10Prefix: Buffer, onlyIfComplete = false): HeaderFields | null {
  const dataSet = parseHeader(part10Prefix, LAST_HEADER_TAG);
  if (onlyIfComplete && !dataSet?.elements[LAST_HEADER_TAG]) return null;
  const v = (tag: string) => {
    try {
      return dataSet?.string(tag)?.trim() || null;
    } catch {
      return null;
    }
  };
  return { studyInstanceUid: v("x0020000d"), seriesInstanceUid: v("x0020000e"), modality: v("x00080060") };
}

/**
 * Where the dataset starts in a Part 10 file: after the preamble, "DICM" and the File Meta Information group,
 * whose length its first element (0002,0000) gives. Null when the file does not start that way.
 */
export function datasetOffset(head: Buffer): number | null {
  if (head.length < 144 || head.toString("latin1", 128, 132) !== "DICM") return null;
  if (head.readUInt16LE(132) !== 0x0002 || head.readUInt16LE(134) !== 0x0000 || head.toString("latin1", 136, 138) !== "UL") return null;
  return 144 + head.readUInt32LE(140);
}
