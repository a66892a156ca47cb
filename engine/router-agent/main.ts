// The router agent process, configured by environment (see engine/router-agent/PROTOCOL.md).
import { readFileSync } from "node:fs";
import { z } from "zod";
import { startRouterAgent } from "./agent";
import { forwardExact } from "./forward";

const Env = z.object({
  ROUTER_GATEWAY_URL: z.string().regex(/^wss:\/\//, "must be a wss:// URL"),
  ROUTER_CERT_FILE: z.string().min(1),
  ROUTER_KEY_FILE: z.string().min(1),
  ROUTER_CA_FILE: z.string().min(1),
  ROUTER_PACS_HOST: z.string().min(1),
  ROUTER_PACS_PORT: z.coerce.number().int().min(1).max(65535),
  ROUTER_PACS_AE: z.string().min(1).max(16),
  ROUTER_AE: z.string().min(1).max(16).default("RELAY_ROUTER"),
  ROUTER_SPOOL_DIR: z.string().min(1).default("./router-spool"),
});

const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  console.error(`router agent: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  process.exit(2);
}
const env = parsed.data;
const pacs = { host: env.ROUTER_PACS_HOST, port: env.ROUTER_PACS_PORT, aeTitle: env.ROUTER_PACS_AE };
const agent = startRouterAgent({
  gatewayUrl: env.ROUTER_GATEWAY_URL,
  tls: {
    certPem: readFileSync(env.ROUTER_CERT_FILE, "utf8"),
    keyPem: readFileSync(env.ROUTER_KEY_FILE, "utf8"),
    caPem: readFileSync(env.ROUTER_CA_FILE, "utf8"),
  },
  spoolDir: env.ROUTER_SPOOL_DIR,
  forward: (file, result) => forwardExact(file, result, pacs, env.ROUTER_AE),
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => (agent.stop(), setTimeout(() => process.exit(0), 200)));
