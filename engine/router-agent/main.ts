// The router agent process, configured by environment (see engine/router-agent/PROTOCOL.md).
import { readFileSync } from "node:fs";
import { z } from "zod";
import { startRouterAgent } from "./agent";
import { forwardExact } from "../dicom/store-exact";

// Either the enrollment bundle the console downloads (ROUTER_BUNDLE_FILE), or its parts as separate files.
const Bundle = z.object({
  gatewayUrl: z.string().regex(/^wss:\/\//, "gatewayUrl must be a wss:// URL"),
  certificatePem: z.string().min(1),
  privateKeyPem: z.string().min(1),
  caCertificatePem: z.string().min(1),
});
const Env = z.object({
  ROUTER_BUNDLE_FILE: z.string().min(1).optional(),
  ROUTER_GATEWAY_URL: z.string().regex(/^wss:\/\//, "must be a wss:// URL").optional(),
  ROUTER_CERT_FILE: z.string().min(1).optional(),
  ROUTER_KEY_FILE: z.string().min(1).optional(),
  ROUTER_CA_FILE: z.string().min(1).optional(),
  ROUTER_PACS_HOST: z.string().min(1),
  ROUTER_PACS_PORT: z.coerce.number().int().min(1).max(65535),
  ROUTER_PACS_AE: z.string().min(1).max(16),
  ROUTER_AE: z.string().min(1).max(16).default("RELAY_ROUTER"),
  ROUTER_SPOOL_DIR: z.string().min(1).default("./router-spool"),
  /** results pulled and forwarded at the same time */
  ROUTER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
});

const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  console.error(`router agent: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  process.exit(2);
}
const env = parsed.data;

function connection() {
  if (env.ROUTER_BUNDLE_FILE) {
    const b = Bundle.safeParse(JSON.parse(readFileSync(env.ROUTER_BUNDLE_FILE, "utf8")));
    if (!b.success) throw new Error(`${env.ROUTER_BUNDLE_FILE} is not an enrollment bundle: ${b.error.issues.map((i) => i.message).join("; ")}`);
    return { gatewayUrl: b.data.gatewayUrl, tls: { certPem: b.data.certificatePem, keyPem: b.data.privateKeyPem, caPem: b.data.caCertificatePem } };
  }
  const { ROUTER_GATEWAY_URL: url, ROUTER_CERT_FILE: cert, ROUTER_KEY_FILE: key, ROUTER_CA_FILE: ca } = env;
  if (!url || !cert || !key || !ca) throw new Error("set ROUTER_BUNDLE_FILE, or ROUTER_GATEWAY_URL, ROUTER_CERT_FILE, ROUTER_KEY_FILE and ROUTER_CA_FILE");
  return { gatewayUrl: url, tls: { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8"), caPem: readFileSync(ca, "utf8") } };
}

let conn: ReturnType<typeof connection>;
try {
  conn = connection();
} catch (e) {
  console.error(`router agent: ${e instanceof Error ? e.message : e}`);
  process.exit(2);
}
const pacs = { host: env.ROUTER_PACS_HOST, port: env.ROUTER_PACS_PORT, aeTitle: env.ROUTER_PACS_AE };
const agent = startRouterAgent({
  gatewayUrl: conn.gatewayUrl,
  tls: conn.tls,
  spoolDir: env.ROUTER_SPOOL_DIR,
  concurrency: env.ROUTER_CONCURRENCY,
  forward: (file, result) => forwardExact(file, result, pacs, env.ROUTER_AE),
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => (agent.stop(), setTimeout(() => process.exit(0), 200)));
