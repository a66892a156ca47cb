// The router gateway protocol (engine/router-agent/PROTOCOL.md): JSON text frames, validated with zod on both
// sides. Shared by the gateway (engine/relay/gateway.ts) and the reference router agent.
import { z } from "zod";

export const PROTOCOL_VERSION = 1;
export const CHUNK_BYTES = 256 * 1024;

const ResultId = z.uuid();

export const Pending = z.object({
  id: ResultId,
  sopInstanceUid: z.string(),
  sopClassUid: z.string(),
  transferSyntaxUid: z.string(),
  sizeBytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  receivedAt: z.string(),
});
export type Pending = z.infer<typeof Pending>;

/** gateway → router */
export const ServerMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("hello"),
    protocol: z.literal(PROTOCOL_VERSION),
    tenant: z.string(),
    routerId: z.uuid(),
    heartbeatSeconds: z.number(),
    /** at most this many results are outstanding (offered, not yet acked or nacked) at once; optional, additive */
    window: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal("notify"), results: z.array(Pending) }),
  z.object({ type: z.literal("chunk"), id: ResultId, offset: z.number().int().nonnegative(), data: z.base64(), last: z.boolean() }),
  z.object({ type: z.literal("pull-failed"), id: ResultId, message: z.string() }),
  z.object({ type: z.literal("acked"), id: ResultId }),
  z.object({ type: z.literal("ack-ignored"), id: z.string(), message: z.string() }),
  z.object({ type: z.literal("heartbeat-ack") }),
  /** the router's renewed certificate (for the key of its CSR); the connection goes on with the old one */
  z.object({ type: z.literal("renewed"), certificatePem: z.string().min(1), notAfter: z.string() }),
  z.object({ type: z.literal("renew-failed"), message: z.string() }),
  z.object({ type: z.literal("error"), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

/** router → gateway */
export const RouterMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("pull"), id: ResultId }),
  /** sent only after the local PACS accepted the instance: the gateway then deletes the bytes */
  z.object({ type: z.literal("ack"), id: ResultId }),
  /** forwarding failed: the result stays held and is offered again, with backoff, on this connection */
  z.object({ type: z.literal("nack"), id: ResultId, reason: z.string().max(1000) }),
  z.object({ type: z.literal("heartbeat") }),
  /** a CSR for a new key, sent when the router's certificate nears its expiry */
  z.object({ type: z.literal("renew"), csr: z.string().min(1).max(8 * 1024) }),
]);
export type RouterMessage = z.infer<typeof RouterMessage>;

/** Parses a frame; returns an explanation instead of throwing, so a bad message never takes a connection down. */
export function parseFrame<T extends z.ZodType>(schema: T, raw: unknown): { ok: true; message: z.infer<T> } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(String(raw));
  } catch {
    return { ok: false, error: "message is not JSON" };
  }
  const r = schema.safeParse(json);
  return r.success ? { ok: true, message: r.data } : { ok: false, error: `invalid message: ${r.error.issues.map((i) => `${i.path.join(".") || "type"}: ${i.message}`).join("; ")}` };
}
