// Enrols a router as a site would: a code from the admin API, then the router's own key and CSR at the gateway.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { enrolWithCode } from "../engine/router-agent/enrolment";

const ROOT = path.resolve(import.meta.dirname, "..");

export async function enrolTestRouter(engine: { url: string }, token: string, slug: string, name = `${slug} router`, calledAeTitles?: string[]) {
  const res = await fetch(`${engine.url}/v1/tenants/${slug}/routers`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ name, ...(calledAeTitles ? { calledAeTitles } : {}) }),
  });
  if (res.status !== 201) throw new Error(`enrolment code refused: ${res.status} ${await res.text()}`);
  const e = (await res.json()) as { enrolment: { id: string }; code: string; gatewayUrl: string; caCertificatePem: string };
  const gatewayUrl = e.gatewayUrl;
  const cert = await enrolWithCode({ gatewayUrl, code: e.code, caPem: e.caCertificatePem });
  return {
    router: { id: cert.routerId, name },
    code: e.code,
    gatewayUrl,
    certificatePem: cert.certificatePem,
    privateKeyPem: cert.keyPem,
    caCertificatePem: e.caCertificatePem,
  };
}

/**
 * An enrolled router's agent as its own process, as on a site, forwarding to `pacs`: its certificate files and
 * spool in `dir`. One process (tsx as a loader, not its CLI wrapper), so SIGKILL really kills the agent.
 */
export function spawnAgentProcess(
  router: Awaited<ReturnType<typeof enrolTestRouter>>,
  opts: { gatewayPort: number; pacs: { port: number; aeTitle: string }; dir: string; env?: Record<string, string>; onOutput?: (text: string) => void },
) {
  const file = (name: string, text: string) => (writeFileSync(path.join(opts.dir, name), text), path.join(opts.dir, name));
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "engine/router-agent/main.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      ROUTER_GATEWAY_URL: `wss://localhost:${opts.gatewayPort}`,
      ROUTER_CERT_FILE: file("cert.pem", router.certificatePem),
      ROUTER_KEY_FILE: file("key.pem", router.privateKeyPem),
      ROUTER_CA_FILE: file("ca.pem", router.caCertificatePem),
      ROUTER_PACS_HOST: "127.0.0.1",
      ROUTER_PACS_PORT: String(opts.pacs.port),
      ROUTER_PACS_AE: opts.pacs.aeTitle,
      ROUTER_SPOOL_DIR: path.join(opts.dir, "spool"),
      ...opts.env,
    },
    stdio: ["ignore", opts.onOutput ? "pipe" : "ignore", opts.onOutput ? "pipe" : "ignore"],
  });
  if (opts.onOutput) for (const out of [child.stdout!, child.stderr!]) out.on("data", (d: Buffer) => opts.onOutput!(d.toString().trimEnd()));
  return child;
}
