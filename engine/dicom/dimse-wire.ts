// DIMSE on the wire, for the one message the ingest path sends per instance: the C-STORE-RSP, encoded directly
// into its P-DATA-TF PDU (command set in implicit VR little endian, PS3.7 §9.3.1.2 and §E; PDU in PS3.8 §9.3.5).
// dcmjs-dimse builds it through a dcmjs dataset and formats a log line for it even when logging is off, which was
// a visible share of the per-instance CPU. Tested byte for byte against dcmjs-dimse's own encoding.

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
