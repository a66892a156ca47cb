// A router's enrolment: it makes its own key pair and a CSR, and trades the console's one-time code for its
// certificate at the gateway (POST /enrol). The private key is written only on the router (the caller's files).
import "reflect-metadata"; // required by @peculiar/x509's dependency injection, before it loads
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import https from "node:https";
import { z } from "zod";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

const Enrolled = z.object({ routerId: z.uuid(), tenant: z.string(), certificatePem: z.string().min(1), caCertificatePem: z.string().min(1), notAfter: z.string() });
export type EnrolledRouterCertificate = z.infer<typeof Enrolled> & { keyPem: string };

const pem = (label: string, der: ArrayBuffer) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;

/** A new key pair and a CSR signed with it (the CA sets the subject; the CSR proves the key). */
export async function newKeyAndCsr() {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=router", keys, signingAlgorithm: ALG });
  return { keyPem: pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)), csrPem: csr.toString("pem") };
}

/** POSTs {code, csr} to the gateway, trusting only its CA; resolves to the issued certificate with the new key. */
export async function enrolWithCode(opts: { gatewayUrl: string; code: string; caPem: string }): Promise<EnrolledRouterCertificate> {
  const { keyPem, csrPem } = await newKeyAndCsr();
  const url = new URL("/enrol", opts.gatewayUrl.replace(/^wss:/, "https:"));
  const body = JSON.stringify({ code: opts.code, csr: csrPem });
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(url, { method: "POST", ca: opts.caPem, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }, timeout: 30_000 }, (res) => {
      let t = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (t += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: t }));
    });
    req.on("timeout", () => req.destroy(new Error("the gateway did not answer in 30 s")));
    req.on("error", reject);
    req.end(body);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`enrolment failed: the gateway answered ${status} with no JSON`);
  }
  if (status !== 201) throw new Error(`enrolment refused: ${(json as { message?: string }).message ?? `HTTP ${status}`}`);
  const enrolled = Enrolled.parse(json);
  return { ...enrolled, keyPem };
}
