import "server-only";
import { bindRecord, verifyRecord } from "../auth/signature-binding";

/** What a signature binds: the tenant, the study (item id) and the decision with its content and signer. */
export type SignedContent = {
  tenantId: string;
  itemId: string;
  decision: string;
  meaning: string;
  reason: string;
  patch: unknown;
  signerUserId: string;
  signerName: string;
  signedAt: string;
  authTime: string;
  countersigns?: string | null;
};

const PURPOSE = "quarantine-signature-binding/v1";
const values = (c: SignedContent) => [c.tenantId, c.itemId, c.decision, c.meaning, c.reason, c.patch ?? null, c.signerUserId, c.signerName, c.signedAt, c.authTime, c.countersigns ?? null];

export const bindSignature = (c: SignedContent, secret?: string) => bindRecord(PURPOSE, values(c), secret);
export const verifySignature = (c: SignedContent, binding: string, secret?: string) => verifyRecord(PURPOSE, values(c), binding, secret);
