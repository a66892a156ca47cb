import "server-only";
import { lookup } from "node:dns/promises";
import net from "node:net";

// Webhooks go out from inside the platform: a URL that reaches a private, loopback or link-local address could
// be used to probe internal services. Refused, unless WEBHOOKS_ALLOW_PRIVATE=1 (development and the test suite,
// whose receiver listens on loopback).
const PRIVATE = [
  ["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["127.0.0.0", 8], ["169.254.0.0", 16], ["0.0.0.0", 8], ["100.64.0.0", 10],
] as const;

function ipv4Private(ip: string) {
  const n = (a: string) => a.split(".").reduce((v, o) => (v << 8) + Number(o), 0) >>> 0;
  return PRIVATE.some(([base, bits]) => (n(ip) >>> (32 - bits)) === (n(base) >>> (32 - bits)));
}

export function isPrivateAddress(ip: string) {
  if (net.isIPv4(ip)) return ipv4Private(ip);
  const v6 = ip.toLowerCase();
  if (v6.startsWith("::ffff:")) return ipv4Private(v6.slice(7));
  return v6 === "::1" || v6 === "::" || v6.startsWith("fc") || v6.startsWith("fd") || v6.startsWith("fe80");
}

/** Why a webhook URL is refused, or null when it may be used. */
export async function webhookUrlProblem(raw: string, allowPrivate = process.env.WEBHOOKS_ALLOW_PRIVATE === "1"): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Enter a full URL, e.g. https://hooks.example.org/migrations.";
  }
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:")) return "Webhook URLs must use https.";
  if (url.username || url.password) return "Put no credentials in the URL; deliveries are signed instead.";
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const addresses = net.isIP(host) ? [host] : await lookup(host, { all: true }).then((a) => a.map((x) => x.address), () => null);
  if (!addresses) return `${host} does not resolve.`;
  if (addresses.some(isPrivateAddress)) return `${host} is a private, loopback or link-local address; webhooks go to public receivers only.`;
  return null;
}
