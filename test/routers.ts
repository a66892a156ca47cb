// Enrols a router as a site would: a code from the admin API, then the router's own key and CSR at the gateway.
import { enrolWithCode } from "../engine/router-agent/enrolment";

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
