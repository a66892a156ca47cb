// DICOM Part 10 framing for received instances: a network C-STORE carries only the dataset, so the engine
// writes the 128-byte preamble, "DICM" and the File Meta Information group itself, then the dataset bytes exactly
// as received (no re-encoding).
import dcmjs from "dcmjs";

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
 * Reads the few header elements the hold queue needs from the start of a Part 10 file, stopping before pixel
 * data. Returns null when the prefix does not hold them all (the caller then reads further).
 */
export function readHeaderFields(part10Prefix: Buffer): HeaderFields | null {
  try {
    const ab = part10Prefix.buffer.slice(part10Prefix.byteOffset, part10Prefix.byteOffset + part10Prefix.byteLength);
    const file = dcmjs.data.DicomMessage.readFile(ab as ArrayBuffer, { untilTag: "7FE00010", ignoreErrors: true });
    const v = (tag: string) => {
      const value = file.dict[tag]?.Value?.[0];
      return typeof value === "string" && value.trim() ? value.trim() : null;
    };
    return { studyInstanceUid: v("0020000D"), seriesInstanceUid: v("0020000E"), modality: v("00080060") };
  } catch {
    return null;
  }
}
