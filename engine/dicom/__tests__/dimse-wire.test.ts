// The engine's own C-STORE-RSP encoding equals dcmjs-dimse's, byte for byte (command set and PDU).
import dimse from "dcmjs-dimse";
import { describe, expect, it } from "vitest";
import { cStoreResponseCommand, commandPdu } from "../dimse-wire";

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
