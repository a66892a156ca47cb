// DIMSE on the wire, for the messages of the ingest path: the C-STORE-RSP it sends, encoded directly into its
// P-DATA-TF PDU (command set in implicit VR little endian, PS3.7 §9.3.1.2 and §E; PDU in PS3.8 §9.3.5), and the
// command sets it receives, read without dcmjs's general reader. dcmjs-dimse goes through dcmjs for both (and
// formats a log line for each response even when logging is off), a visible share of the per-instance CPU.
// Tested against dcmjs-dimse's and dcmjs's own results.
import dcmjs from "dcmjs";
import dimse from "dcmjs-dimse";

const COMMAND_FIELD_C_STORE_RSP = 0x8001;
/** CommandDataSetType: no dataset follows */
const NO_DATASET = 0x0101;

function uid(group: number, element: number, value: string) {
  const text = value.length % 2 ? `${value}\0` : value;
  const b = Buffer.alloc(8 + text.length);
  b.writeUInt16LE(group, 0);
  b.writeUInt16LE(element, 2);
  b.writeUInt32LE(text.length, 4);
  b.write(text, 8, "latin1");
  return b;
}

function us(group: number, element: number, value: number) {
  const b = Buffer.alloc(10);
  b.writeUInt16LE(group, 0);
  b.writeUInt16LE(element, 2);
  b.writeUInt32LE(2, 4);
  b.writeUInt16LE(value, 8);
  return b;
}

/** The C-STORE-RSP command set (group 0000, implicit VR LE), with its group length first. */
export function cStoreResponseCommand(r: { messageId: number; sopClassUid: string; sopInstanceUid: string; status: number }) {
  const body = Buffer.concat([
    uid(0x0000, 0x0002, r.sopClassUid),
    us(0x0000, 0x0100, COMMAND_FIELD_C_STORE_RSP),
    us(0x0000, 0x0120, r.messageId),
    us(0x0000, 0x0800, NO_DATASET),
    us(0x0000, 0x0900, r.status),
    uid(0x0000, 0x1000, r.sopInstanceUid),
  ]);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt32LE(0x00000000, 0); // (0000,0000)
  groupLength.writeUInt32LE(4, 4);
  groupLength.writeUInt32LE(body.length, 8);
  return Buffer.concat([groupLength, body]);
}

/** One P-DATA-TF PDU carrying a whole command set in a single PDV (command, last fragment). */
export function commandPdu(presentationContextId: number, command: Buffer) {
  const pdu = Buffer.alloc(12 + command.length);
  pdu.writeUInt8(0x04, 0); // P-DATA-TF
  pdu.writeUInt32BE(6 + command.length, 2); // PDU length: one PDV item
  pdu.writeUInt32BE(2 + command.length, 6); // PDV item length
  pdu.writeUInt8(presentationContextId, 10);
  pdu.writeUInt8(0x03, 11); // message control header: command, last fragment
  command.copy(pdu, 12);
  return pdu;
}

/**
 * The command set of a received DIMSE message, read the way dcmjs reads it (its dictionary form, the input of
 * dcmjs's own naturalizeDataset), for the elements a command carries: UL, US, UI and AE values, one each. Null
 * for anything else (another group, another VR, an empty or multi-valued element), which the caller leaves to
 * dcmjs. dcmjs-dimse parses every command through dcmjs's general reader, a visible share of each C-STORE's CPU.
 */
export function readCommandDictionary(command: Buffer, vrOf: (tag: string) => string | undefined): Record<string, { vr: string; Value: unknown[]; _rawValue: unknown[] }> | null {
  const dict: Record<string, { vr: string; Value: unknown[]; _rawValue: unknown[] }> = {};
  for (let at = 0; at < command.length; ) {
    if (at + 8 > command.length) return null;
    const group = command.readUInt16LE(at);
    const element = command.readUInt16LE(at + 2);
    const length = command.readUInt32LE(at + 4);
    const start = at + 8;
    at = start + length;
    if (group !== 0 || length === 0 || at > command.length) return null;
    const tag = `0000${element.toString(16).toUpperCase().padStart(4, "0")}`;
    const vr = vrOf(`(0000,${tag.slice(4)})`);
    let raw: unknown;
    let value: unknown;
    if (vr === "UL" && length === 4) raw = value = command.readUInt32LE(start);
    else if (vr === "US" && length === 2) raw = value = command.readUInt16LE(start);
    else if (vr === "UI" || vr === "AE") {
      const text = command.toString("latin1", start, at);
      if (text.includes("\\") || /[^\x20-\x7e]/.test(vr === "UI" ? text.replace(/\0$/, "") : text)) return null;
      raw = vr === "UI" ? text.replace(/\0$/, "") : text;
      value = vr === "UI" ? raw : text.trim();
    } else return null;
    dict[tag] = { vr, Value: [value], _rawValue: [raw] };
  }
  return dict;
}

type DatasetInternals = { _fromElementsBuffer(buffer: Buffer, transferSyntaxUid: string, options: unknown): Record<string, unknown> };
const IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2";
let installed = false;

/**
 * dcmjs-dimse's bundled memory stream calls the deprecated Buffer() for each command set it collects. Until the
 * process has emitted that deprecation (DEP0005) or made 10,000 such calls, Node captures the whole stack at every
 * call to see whether it came from node_modules: about 0.1 ms per instance, for the first several thousand after
 * each start. The warning is counted as emitted here, once, without being printed.
 */
function skipBufferDeprecationCheck() {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    (Buffer as unknown as (size: number) => Buffer)(0);
  } finally {
    process.noDeprecation = quiet;
  }
}

/**
 * Makes dcmjs-dimse read command sets with readCommandDictionary (everything else, and any command it declines,
 * still goes through dcmjs). Process-wide: the migration's SCU sessions use it too.
 */
export function installFastCommandReader() {
  if (installed) return;
  installed = true;
  skipBufferDeprecationCheck();
  const { DicomMetaDictionary } = (dcmjs as unknown as { data: { DicomMetaDictionary: { dictionary: Record<string, { vr: string }>; naturalizeDataset(d: unknown): Record<string, unknown> } } }).data;
  const vrOf = (tag: string) => DicomMetaDictionary.dictionary[tag]?.vr;
  const proto = dimse.Dataset.prototype as unknown as DatasetInternals;
  const general = proto._fromElementsBuffer;
  proto._fromElementsBuffer = function (buffer, transferSyntaxUid, options) {
    const dict = transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN ? readCommandDictionary(buffer, vrOf) : null;
    return dict ? DicomMetaDictionary.naturalizeDataset(dict) : general.call(this, buffer, transferSyntaxUid, options);
  };
}
