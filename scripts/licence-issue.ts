// npm run licence:issue -- --key <vendor-ed25519.pem> --licensee <name> --deployment <id> [--features relay,migration]
//                          [--routers N] [--tenants N] [--migrated-tb N] --expires <YYYY-MM-DD | never>
//                          --maintenance-until <YYYY-MM-DD> [--issued YYYY-MM-DD] [--mode self-hosted] [--out licence.json]
// npm run licence:issue -- --key <vendor-ed25519.pem> --public-key
//
// Issues a self-hosted licence: the payload signed with the vendor's Ed25519 private key (engine/licence/format.ts).
// Engines trust the public key built into engine/licence/vendor-key.ts; `--public-key` prints the key's public half
// to put there (or, in development, in ENGINE_LICENCE_PUBLIC_KEY). A limit left out is no limit. Exit status: 0
// issued, 2 refused (a bad argument, a key that is not Ed25519).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { FEATURES, LICENCE_FORMAT, LicencePayload, rawPublicKey, signLicence } from "../engine/licence/format";

const usage =
  "usage: npm run licence:issue -- --key <vendor.pem> --licensee <name> --deployment <id> [--features relay,migration] [--routers N] [--tenants N] [--migrated-tb N]\n" +
  "                                 --expires <YYYY-MM-DD|never> --maintenance-until <YYYY-MM-DD> [--issued YYYY-MM-DD] [--mode self-hosted] [--out file]\n" +
  "       npm run licence:issue -- --key <vendor.pem> --public-key";

class Refused extends Error {}

/** The vendor's key: read from `file`, or generated there (0600) when absent, as migration:reverify does. */
export function loadOrCreateKey(file: string): { privateKey: KeyObject; publicKey: string; created: boolean } {
  if (existsSync(file)) {
    const privateKey = createPrivateKey(readFileSync(file, "utf8"));
    if (privateKey.asymmetricKeyType !== "ed25519") throw new Refused(`${file} is not an Ed25519 private key`);
    return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)), created: false };
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(file, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  return { privateKey, publicKey: rawPublicKey(publicKey), created: true };
}

const limit = (name: string, v: string | undefined) => {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Refused(`--${name} must be a number, 0 or more (leave it out for no limit)`);
  return n;
};

export function payloadFromArgs(values: Record<string, string | boolean | undefined>, today = new Date()): LicencePayload {
  const s = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  for (const k of ["licensee", "deployment", "expires", "maintenance-until"]) if (!s(k)) throw new Refused(`--${k} is required\n${usage}`);
  const features = (s("features") ?? FEATURES.join(",")).split(",").map((f) => f.trim()).filter(Boolean);
  const parsed = LicencePayload.safeParse({
    format: LICENCE_FORMAT,
    licensee: s("licensee"),
    deploymentId: s("deployment"),
    mode: s("mode") ?? "self-hosted",
    features,
    limits: { routers: limit("routers", s("routers")), tenants: limit("tenants", s("tenants")), migratedTb: limit("migrated-tb", s("migrated-tb")) },
    issuedAt: s("issued") ?? today.toISOString().slice(0, 10),
    expiresAt: s("expires") === "never" ? null : s("expires"),
    maintenanceEndsAt: s("maintenance-until"),
  });
  if (!parsed.success) throw new Refused(`not a valid licence:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function main() {
  const { values } = parseArgs({
    options: {
      key: { type: "string" },
      licensee: { type: "string" },
      deployment: { type: "string" },
      mode: { type: "string" },
      features: { type: "string" },
      routers: { type: "string" },
      tenants: { type: "string" },
      "migrated-tb": { type: "string" },
      issued: { type: "string" },
      expires: { type: "string" },
      "maintenance-until": { type: "string" },
      out: { type: "string" },
      "public-key": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void console.log(usage);
  if (!values.key) throw new Refused(usage);
  const key = loadOrCreateKey(values.key);
  if (key.created) console.error(`generated an Ed25519 key in ${values.key}: engines accept its licences only once its public key is built in (engine/licence/vendor-key.ts) or, in development, set as ENGINE_LICENCE_PUBLIC_KEY`);
  if (values["public-key"]) return void console.log(key.publicKey);
  const licence = JSON.stringify(signLicence(payloadFromArgs(values), key.privateKey), null, 2);
  if (values.out) writeFileSync(values.out, `${licence}\n`);
  else console.log(licence);
  console.error(`issued a licence signed by ${key.publicKey}${values.out ? ` to ${values.out}` : ""}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 2;
  }
}
