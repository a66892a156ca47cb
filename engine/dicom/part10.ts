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

const MODALITY = 0x00080060;
const STUDY_UID = 0x0020000d;
const SERIES_UID = 0x0020000e;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQUENCE_END = 0xfffee0dd;
const UNDEFINED_LENGTH = 0xffffffff;
/** A VR's two letters as one number (no string per element). */
const vrCode = (vr: string) => (vr.charCodeAt(0) << 8) | vr.charCodeAt(1);
/** Explicit VRs whose length is 4 bytes, after 2 reserved ones (PS3.5 §7.1.2). */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"].map(vrCode));
const UN = vrCode("UN");
const isUpper = (byte: number) => byte >= 0x41 && byte <= 0x5a;
/** Transfer syntaxes whose dataset is not little endian as it stands: left to dicom-parser. */
const NOT_PLAIN_LE = new Set(["1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"]);

type Cursor = { buf: Buffer; at: number; implicit: boolean };
/** An element's tag and value length, the cursor moved to its value; "end" when the buffer ends first. */
type ElementHead = { tag: number; length: number; vr: number } | "end" | "invalid";

function elementHead(c: Cursor): ElementHead {
  const { buf, at } = c;
  if (at + 8 > buf.length) return "end";
  const group = buf.readUInt16LE(at);
  const tag = ((group << 16) | buf.readUInt16LE(at + 2)) >>> 0;
  // Items and delimiters carry no VR, in either encoding.
  if (c.implicit || group === 0xfffe) {
    c.at += 8;
    return { tag, length: buf.readUInt32LE(at + 4), vr: 0 };
  }
  if (!isUpper(buf[at + 4]!) || !isUpper(buf[at + 5]!)) return "invalid";
  const vr = (buf[at + 4]! << 8) | buf[at + 5]!;
  if (!LONG_VRS.has(vr)) {
    c.at += 8;
    return { tag, length: buf.readUInt16LE(at + 6), vr };
  }
  if (at + 12 > buf.length) return "end";
  c.at += 12;
  return { tag, length: buf.readUInt32LE(at + 8), vr };
}

/** Skips a value of undefined length (a sequence's items, or an item's elements) past its delimiter. */
function skipUndefinedLength(c: Cursor, delimiter: number): "ok" | "end" | "invalid" {
  for (;;) {
    const el = elementHead(c);
    if (typeof el === "string") return el;
    if (el.tag === delimiter) return "ok";
    if (el.length === UNDEFINED_LENGTH) {
      // An explicit UN of undefined length holds an implicit VR sequence (PS3.5 §6.2.2): left to dicom-parser.
      if (el.vr === UN) return "invalid";
      const inner = skipUndefinedLength(c, el.tag === ITEM ? ITEM_END : SEQUENCE_END);
      if (inner !== "ok") return inner;
    } else if ((c.at += el.length) > c.buf.length) return "end";
  }
}

const stringValue = (buf: Buffer, start: number, length: number) => {
  const text = buf.toString("latin1", start, start + length);
  const nul = text.indexOf("\0");
  return (nul < 0 ? text : text.slice(0, nul)).trim() || null;
};

/**
 * The header fields read by walking the little-endian dataset's elements up to the series UID, skipping
 * sequences without decoding them: a fraction of dicom-parser's cost (it builds an object for every element).
 * Undefined for anything it does not read itself (big endian, deflate, an odd encoding), which dicom-parser reads.
 */
function readHeaderFieldsLE(part10: Buffer): { fields: HeaderFields; complete: boolean } | undefined {
  const start = datasetOffset(part10);
  if (start === null) return undefined;
  const meta: Cursor = { buf: part10.subarray(0, Math.min(start, part10.length)), at: 132, implicit: false };
  let transferSyntax: string | null = null;
  for (let el = elementHead(meta); typeof el !== "string"; el = elementHead(meta)) {
    if (el.tag === 0x00020010) transferSyntax = stringValue(part10, meta.at, el.length);
    meta.at += el.length;
  }
  if (!transferSyntax || NOT_PLAIN_LE.has(transferSyntax)) return undefined;
  const fields: HeaderFields = { studyInstanceUid: null, seriesInstanceUid: null, modality: null };
  const c: Cursor = { buf: part10, at: start, implicit: transferSyntax === "1.2.840.10008.1.2" };
  for (;;) {
    const el = elementHead(c);
    if (el === "invalid") return undefined;
    if (el === "end" || el.tag > SERIES_UID) return { fields, complete: false };
    if (el.length === UNDEFINED_LENGTH) {
      if (el.vr === UN) return undefined;
      const skipped = skipUndefinedLength(c, SEQUENCE_END);
      if (skipped === "invalid") return undefined;
      if (skipped === "end") return { fields, complete: false };
      continue;
    }
    if (c.at + el.length > part10.length) return { fields, complete: false };
    if (el.tag === MODALITY) fields.modality = stringValue(part10, c.at, el.length);
    else if (el.tag === STUDY_UID) fields.studyInstanceUid = stringValue(part10, c.at, el.length);
    else if (el.tag === SERIES_UID) {
      fields.seriesInstanceUid = stringValue(part10, c.at, el.length);
      return { fields, complete: true };
    }
    c.at += el.length;
  }
}

/**
 * The few header elements the hold queue needs, from the start of a Part 10 file. With `onlyIfComplete`, null
 * unless the prefix reached the last of them (so a caller can try again with more bytes).
 */
export function readHeaderFields(part10Prefix: Buffer, onlyIfComplete?: false): HeaderFields;
export function readHeaderFields(part10Prefix: Buffer, onlyIfComplete: true): HeaderFields | null;
export function readHeaderFields(part10Prefix: Buffer, onlyIfComplete = false): HeaderFields | null {
  const read = readHeaderFieldsLE(part10Prefix);
  if (read) return onlyIfComplete && !read.complete ? null : read.fields;
  // Parsing stops at the last of them, which halves dicom-parser's cost on a typical CT header.
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
