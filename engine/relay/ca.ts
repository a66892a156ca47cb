// The router CA: issues the gateway's server certificate and each enrolled router's client certificate
// (subject CN = tenant slug). ECDSA P-256 throughout.
import "reflect-metadata"; // required by @peculiar/x509's dependency injection, before it loads
import * as x509 from "@peculiar/x509";
import { createHash, randomBytes, webcrypto } from "node:crypto";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

const pem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;

async function keyPair() {
  return webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

async function exportKey(key: CryptoKey) {
  return pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", key));
}

async function importKey(keyPem: string) {
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return webcrypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"]);
}

const serial = () => randomBytes(16).toString("hex").replace(/^[89a-f]/, "1"); // positive

export type CaMaterial = { certPem: string; keyPem: string };

/** A CSR that cannot be used: says why, for the router's log. */
export class CsrError extends Error {}
export type IssuedCertificate = CaMaterial & { serial: string; subject: string; notAfter: Date; fingerprint256: string };

/** A new self-signed CA (self-hosted mode at first boot, or the launcher's development CA). */
export async function createCa(commonName: string, days = 3650): Promise<CaMaterial> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + days * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: await exportKey(keys.privateKey) };
}

/** SHA-256 fingerprint in Node's `getPeerCertificate().fingerprint256` format (AA:BB:…). */
export function fingerprint256(certPem: string) {
  const der = Buffer.from(new x509.X509Certificate(certPem).rawData);
  return createHash("sha256").update(der).digest("hex").toUpperCase().match(/.{2}/g)!.join(":");
}

export class CertificateAuthority {
  private constructor(
    readonly certPem: string,
    private readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
  ) {}

  static async load(m: CaMaterial) {
    return new CertificateAuthority(m.certPem, new x509.X509Certificate(m.certPem), await importKey(m.keyPem));
  }

  private async issue(opts: { commonName: string; days: number; client: boolean; dnsNames?: string[]; ips?: string[] }): Promise<IssuedCertificate> {
    const keys = await keyPair();
    const issued = await this.sign({ ...opts, publicKey: keys.publicKey });
    return { ...issued, keyPem: await exportKey(keys.privateKey) };
  }

  private async sign(opts: { commonName: string; days: number; client: boolean; dnsNames?: string[]; ips?: string[]; publicKey: CryptoKey }) {
    const notAfter = new Date(Date.now() + opts.days * DAY);
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([opts.client ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
    ];
    if (opts.dnsNames?.length || opts.ips?.length) {
      extensions.push(
        new x509.SubjectAlternativeNameExtension([
          ...(opts.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
          ...(opts.ips ?? []).map((value) => ({ type: "ip" as const, value })),
        ]),
      );
    }
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${opts.commonName}`,
      issuer: this.cert.subject,
      notBefore: new Date(Math.min(Date.now() - 60_000, notAfter.getTime() - DAY)),
      notAfter,
      publicKey: opts.publicKey,
      signingKey: this.key,
      signingAlgorithm: ALG,
      extensions,
    });
    const certPem = cert.toString("pem") + "\n";
    return {
      certPem,
      serial: cert.serialNumber,
      subject: cert.subject,
      notAfter,
      fingerprint256: fingerprint256(certPem),
    };
  }

  /** A router's client certificate: the subject's CN is the tenant slug the gateway will serve it. */
  issueRouter(tenantSlug: string, days = 365) {
    return this.issue({ commonName: tenantSlug, days, client: true });
  }

  /**
   * A router's client certificate for the public key of the CSR it generated (its private key never leaves it).
   * The subject is ours (CN = tenant slug), whatever the CSR asked for; a CSR whose signature does not verify
   * (not made with the matching private key) is refused.
   */
  async issueRouterForCsr(tenantSlug: string, csrPem: string, days = 365): Promise<Omit<IssuedCertificate, "keyPem">> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch {
      throw new CsrError("the CSR is not a PEM PKCS#10 certificate request");
    }
    if (!(await csr.verify())) throw new CsrError("the CSR's signature does not verify");
    const algorithm = csr.publicKey.algorithm as EcKeyAlgorithm;
    if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") throw new CsrError("the CSR's key must be ECDSA P-256");
    return this.sign({ commonName: tenantSlug, days, client: true, publicKey: await csr.publicKey.export(ALG, ["verify"]) });
  }

  issueServer(hostnames: string[], days = 30) {
    const ips = hostnames.filter((h) => /^[0-9.]+$|:/.test(h));
    return this.issue({ commonName: hostnames[0] ?? "localhost", days, client: false, dnsNames: hostnames.filter((h) => !ips.includes(h)), ips });
  }
}
