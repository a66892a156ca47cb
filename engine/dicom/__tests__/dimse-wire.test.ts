// The engine's own C-STORE-RSP encoding equals dcmjs-dimse's, byte for byte (command set and PDU); its reading
// of received command sets equals dcmjs's, and whatever it declines is left to dcmjs.
import dcmjs from "dcmjs";
import dimse from "dcmjs-dimse";
import { describe, expect, it } from "vitest";
import { cStoreResponseCommand, commandPdu, installFastCommandReader, readCommandDictionary } from "../dimse-wire";

const { requests, responses, Dataset } = dimse;

describe("C-STORE-RSP on the wire", () => {
  const cases = [
    { sopClassUid: "1.2.840.10008.5.1.4.1.1.2", sopInstanceUid: "1.2.3.4.5", messageId: 7, status: 0x0000 },
    { sopClassUid: "1.2.840.10008.5.1.4.1.1.88.22", sopInstanceUid: "1.2.826.0.1.3680043.8.498.12", messageId: 65535, status: 0xa700 },
  ];
  for (const c of cases) {
    it(`matches dcmjs-dimse for message ${c.messageId}, status ${c.status.toString(16)}`, () => {
      const request = new requests.CStoreRequest(new Dataset({ SOPClassUID: c.sopClassUid, SOPInstanceUID: c.sopInstanceUid }, "1.2.840.10008.1.2.1"));
      request.setMessageId(c.messageId);
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(c.status);
      const theirs = Buffer.from(response.getCommandDataset().getDenaturalizedCommandDataset());
      const ours = cStoreResponseCommand(c);
      expect(ours.toString("hex")).toBe(theirs.toString("hex"));
      const pdu = commandPdu(3, ours);
      expect(pdu.subarray(0, 12).toString("hex")).toBe(`0400${(6 + ours.length).toString(16).padStart(8, "0")}${(2 + ours.length).toString(16).padStart(8, "0")}0303`);
      expect(pdu.subarray(12).equals(ours)).toBe(true);
    });
  }
});

describe("received command sets", () => {
  const { DicomMetaDictionary } = (dcmjs as unknown as { data: { DicomMetaDictionary: { dictionary: Record<string, { vr: string }>; naturalizeDataset(d: unknown): unknown } } }).data;
  const vrOf = (tag: string) => DicomMetaDictionary.dictionary[tag]?.vr;
  const store = new requests.CStoreRequest(new Dataset({ SOPClassUID: "1.2.840.10008.5.1.4.1.1.4", SOPInstanceUID: "1.2.826.0.1.3680043.8.498.1" }, "1.2.840.10008.1.2.1"));
  store.setMessageId(65535);
  const moved = new requests.CStoreRequest(new Dataset({ SOPClassUID: "1.2.840.10008.5.1.4.1.1.7", SOPInstanceUID: "1.2.3" }, "1.2.840.10008.1.2"));
  moved.getCommandDataset().setElement("MoveOriginatorApplicationEntityTitle", " MOVER ");
  moved.getCommandDataset().setElement("MoveOriginatorMessageID", 9 as never);
  const failed = responses.CStoreResponse.fromRequest(store);
  failed.setStatus(0xa700);
  const commands = {
    "C-STORE-RQ": store,
    "C-STORE-RQ from a C-MOVE (move originator, padded AE title)": moved,
    "C-ECHO-RQ": new requests.CEchoRequest(),
    "C-STORE-RSP": failed,
  };
  // dcmjs-dimse's own reading, through dcmjs (before the fast reader is installed).
  const bytes = Object.fromEntries(Object.entries(commands).map(([name, m]) => [name, Buffer.from(m.getCommandDataset().getDenaturalizedCommandDataset())]));
  const general = Object.fromEntries(Object.entries(bytes).map(([name, b]) => [name, JSON.stringify(new Dataset(b).getElements())]));

  for (const name of Object.keys(commands)) {
    it(`reads a ${name} as dcmjs does`, () => {
      expect(JSON.stringify(DicomMetaDictionary.naturalizeDataset(readCommandDictionary(bytes[name]!, vrOf)))).toBe(general[name]);
    });
  }

  it("declines what is not a plain command set, and dcmjs-dimse still reads it once installed", () => {
    // A dataset (group 0008), an empty value, a multi-valued UID and a value running past the end.
    const element = (group: number, el: number, value: Buffer) => {
      const head = Buffer.alloc(8);
      head.writeUInt16LE(group, 0);
      head.writeUInt16LE(el, 2);
      head.writeUInt32LE(value.length, 4);
      return Buffer.concat([head, value]);
    };
    const dataset = element(0x0008, 0x0018, Buffer.from("1.2.3\0"));
    const empty = element(0x0000, 0x1030, Buffer.alloc(0));
    const multi = element(0x0000, 0x0002, Buffer.from("1.2\\3.4"));
    const cut = element(0x0000, 0x0002, Buffer.from("1.2.3.4")).subarray(0, 10);
    for (const b of [dataset, empty, multi, cut]) expect(readCommandDictionary(b, vrOf)).toBeNull();
    const before = JSON.stringify(new Dataset(dataset).getElements());
    installFastCommandReader();
    expect(JSON.stringify(new Dataset(dataset).getElements())).toBe(before);
    for (const name of Object.keys(commands)) expect(JSON.stringify(new Dataset(bytes[name]!).getElements())).toBe(general[name]);
  });
});
