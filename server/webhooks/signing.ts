import "server-only";
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { authEnv } from "../env";

// Webhook secrets must be readable to sign deliveries, so they are encrypted rather than hashed: AES-256-GCM
// under a key derived from AUTH_SECRET (a database dump alone does not reveal them).
const key = () => Buffer.from(hkdfSync("sha256", authEnv().AUTH_SECRET, "imaging-ops-console", "webhook-secrets", 32));

export function encryptSecret(secret: string) {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key(), iv);
  const body = Buffer.concat([c.update(secret, "utf8"), c.final()]);
  return [iv, c.getAuthTag(), body].map((b) => b.toString("base64")).join(".");
}

export function decryptSecret(stored: string) {
  const [iv, tag, body] = stored.split(".").map((p) => Buffer.from(p, "base64"));
  const d = createDecipheriv("aes-256-gcm", key(), iv!);
  d.setAuthTag(tag!);
  return Buffer.concat([d.update(body!), d.final()]).toString("utf8");
}

/**
 * The signature a receiver checks: HMAC-SHA256 over `${timestamp}.${body}` with the endpoint's secret, hex. The
 * timestamp (Unix seconds) is signed so a captured delivery cannot be replayed later as new.
 */
export function signature(secret: string, timestamp: number, body: string) {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}
