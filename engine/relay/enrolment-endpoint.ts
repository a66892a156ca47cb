// The gateway's one endpoint for a router without a certificate yet: POST /enrol {code, csr}. Everything else on
// the gateway needs an enrolled certificate (the WebSocket).
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { EngineDb } from "../store/db";
import { CsrError, type CertificateAuthority } from "./ca";
import { EnrolmentError, redeemEnrolment } from "./enrolment";

const MAX_BODY = 16 * 1024;

export const EnrolRequest = z
  .object({
    code: z.string().trim().min(1, "code is required").max(64),
    csr: z.string().min(1, "csr is required").max(8 * 1024).includes("CERTIFICATE REQUEST", { message: "csr must be a PEM PKCS#10 certificate request" }),
  })
  .strict();

const reply = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new RangeError("too large");
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function enrolmentEndpoint(deps: { db: EngineDb; ca: CertificateAuthority; now: () => Date; log: (m: string) => void }) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== "/enrol") return reply(res, 404, { error: "not_found", message: "Routers connect over WebSocket with their certificate; POST /enrol enrols one." });
    if (req.method !== "POST") return reply(res, 405, { error: "method_not_allowed", message: "POST /enrol with {code, csr}." });
    let raw: string;
    try {
      raw = await readBody(req);
    } catch {
      return reply(res, 413, { error: "too_large", message: `The request is larger than ${MAX_BODY} bytes.` });
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return reply(res, 400, { error: "invalid_request", message: "The body is not JSON." });
    }
    const parsed = EnrolRequest.safeParse(json);
    if (!parsed.success) return reply(res, 400, { error: "invalid_request", message: parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ") });
    try {
      const enrolled = await redeemEnrolment(deps.db, deps.ca, parsed.data.code, parsed.data.csr, deps.now());
      deps.log(`gateway: router ${enrolled.name} (${enrolled.tenant}) enrolled from ${req.socket.remoteAddress}`);
      return reply(res, 201, enrolled);
    } catch (e) {
      if (e instanceof EnrolmentError) {
        deps.log(`gateway: enrolment refused from ${req.socket.remoteAddress}: ${e.message}`);
        return reply(res, 401, { error: "enrolment_refused", message: e.message });
      }
      if (e instanceof CsrError) return reply(res, 400, { error: "invalid_csr", message: e.message });
      deps.log(`gateway: enrolment failed: ${e instanceof Error ? e.message : e}`);
      return reply(res, 500, { error: "internal", message: "Enrolment failed on the gateway; try again." });
    }
  };
}
