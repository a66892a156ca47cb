// The router agent process, configured by environment (see engine/router-agent/PROTOCOL.md).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { startRouterAgent } from "./agent";
import { forwardExact } from "../dicom/store-exact";
import { enrolWithCode } from "./enrolment";

// The router enrols once with the console's one-time code (ROUTER_BUNDLE_FILE, or ROUTER_ENROLMENT_CODE with the
// gateway URL and CA), making its key on this machine; the key and certificate are then kept in ROUTER_STATE_DIR.
// Pre-provisioned certificate files (ROUTER_CERT_FILE, ROUTER_KEY_FILE) are used as they are.
const Bundle = z.object({
  gatewayUrl: z.string().regex(/^wss:\/\//, "gatewayUrl must be a wss:// URL"),
  enrolmentCode: z.string().min(1),
  caCertificatePem: z.string().min(1),
});
const Env = z.object({
  ROUTER_BUNDLE_FILE: z.string().min(1).optional(),
  ROUTER_ENROLMENT_CODE: z.string().min(1).optional(),
  ROUTER_GATEWAY_URL: z.string().regex(/^wss:\/\//, "must be a wss:// URL").optional(),
  ROUTER_STATE_DIR: z.string().min(1).default("./router-state"),
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

const state = {
  key: path.join(env.ROUTER_STATE_DIR, "router.key"),
  cert: path.join(env.ROUTER_STATE_DIR, "router.crt"),
  ca: path.join(env.ROUTER_STATE_DIR, "ca.pem"),
  gateway: path.join(env.ROUTER_STATE_DIR, "gateway-url"),
};

/** Moves a renewed key and certificate into place; the certificate goes last, so its `.new` says one is pending. */
function finishRenewal(files: { cert: string; key: string }) {
  if (!existsSync(`${files.cert}.new`)) return;
  if (existsSync(`${files.key}.new`)) renameSync(`${files.key}.new`, files.key);
  renameSync(`${files.cert}.new`, files.cert);
}

async function connection() {
  if (env.ROUTER_CERT_FILE || env.ROUTER_KEY_FILE) {
    const { ROUTER_GATEWAY_URL: url, ROUTER_CERT_FILE: cert, ROUTER_KEY_FILE: key, ROUTER_CA_FILE: ca } = env;
    if (!url || !cert || !key || !ca) throw new Error("with pre-provisioned files, set ROUTER_GATEWAY_URL, ROUTER_CERT_FILE, ROUTER_KEY_FILE and ROUTER_CA_FILE");
    finishRenewal({ cert, key });
    return { gatewayUrl: url, tls: { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8"), caPem: readFileSync(ca, "utf8") }, files: { cert, key } };
  }
  if (!existsSync(state.cert)) {
    const enrolment = env.ROUTER_BUNDLE_FILE ? bundle(env.ROUTER_BUNDLE_FILE) : fromEnv();
    const enrolled = await enrolWithCode(enrolment);
    mkdirSync(env.ROUTER_STATE_DIR, { recursive: true, mode: 0o700 });
    writeFileSync(state.key, enrolled.keyPem, { mode: 0o600 });
    writeFileSync(state.ca, enrolled.caCertificatePem);
    writeFileSync(state.gateway, enrolment.gatewayUrl);
    writeFileSync(state.cert, enrolled.certificatePem);
    console.log(`[router] enrolled as router ${enrolled.routerId} of ${enrolled.tenant}; certificate valid until ${enrolled.notAfter}`);
  }
  finishRenewal(state);
  return {
    gatewayUrl: env.ROUTER_GATEWAY_URL ?? readFileSync(state.gateway, "utf8").trim(),
    tls: { certPem: readFileSync(state.cert, "utf8"), keyPem: readFileSync(state.key, "utf8"), caPem: readFileSync(state.ca, "utf8") },
    files: { cert: state.cert, key: state.key },
  };
}

function bundle(file: string) {
  const b = Bundle.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!b.success) throw new Error(`${file} is not an enrolment bundle: ${b.error.issues.map((i) => i.message).join("; ")}`);
  return { gatewayUrl: b.data.gatewayUrl, code: b.data.enrolmentCode, caPem: b.data.caCertificatePem };
}

function fromEnv() {
  const { ROUTER_ENROLMENT_CODE: code, ROUTER_GATEWAY_URL: url, ROUTER_CA_FILE: ca } = env;
  if (!code || !url || !ca) throw new Error(`not enrolled yet (no ${state.cert}): set ROUTER_BUNDLE_FILE, or ROUTER_ENROLMENT_CODE, ROUTER_GATEWAY_URL and ROUTER_CA_FILE`);
  return { gatewayUrl: url, code, caPem: readFileSync(ca, "utf8") };
}

let conn: Awaited<ReturnType<typeof connection>>;
try {
  conn = await connection();
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
  // The renewed pair replaces the old one where it was read from: both written beside it, then renamed (a stop
  // between the renames is finished at the next start, see finishRenewal).
  onRenewed: ({ certPem, keyPem }) => {
    writeFileSync(`${conn.files.key}.new`, keyPem, { mode: 0o600 });
    writeFileSync(`${conn.files.cert}.new`, certPem);
    finishRenewal(conn.files);
  },
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => (agent.stop(), setTimeout(() => process.exit(0), 200)));
