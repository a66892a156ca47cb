// An in-process engine on a test database, with free ports, a temporary blob directory and a clock the test owns.
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadEngineConfig } from "../engine/config";
import { createCa } from "../engine/relay/ca";
import { startEngine } from "../engine/server";
import { freePort } from "../scripts/lib/ports";
import { TEST_VENDOR_PUBLIC_KEY, writeLicence } from "./licence";

export class TestClock {
  constructor(public current = new Date()) {}
  now = () => this.current;
  advanceDays(days: number) {
    this.current = new Date(this.current.getTime() + days * 86_400_000);
  }
}

export async function startTestEngine(
  engineUrl: string,
  opts: {
    token: string;
    adminPort?: number;
    clock?: TestClock;
    env?: Record<string, string>;
    masterKey?: string;
    blobDir?: string;
    hooks?: Parameters<typeof startEngine>[3];
    log?: (m: string) => void;
    /** the router CA of an engine started before (a restart whose routers keep their certificates) */
    ca?: { certPem: string; keyPem: string };
  },
) {
  const dicomPort = await freePort();
  const gatewayPort = await freePort();
  const blobDir = opts.blobDir ?? mkdtempSync(path.join(os.tmpdir(), "engine-blobs-"));
  const caDir = mkdtempSync(path.join(os.tmpdir(), "engine-ca-"));
  const ca = opts.ca ?? (await createCa("Test router CA"));
  writeFileSync(path.join(caDir, "ca.pem"), ca.certPem);
  writeFileSync(path.join(caDir, "ca.key"), ca.keyPem);
  const masterKey = opts.masterKey ?? randomBytes(32).toString("base64");
  const clock = opts.clock ?? new TestClock();
  // Self-hosted engines need a licence: unless the test brings its own, a perpetual one from the test vendor key.
  const licence =
    opts.env?.ENGINE_MODE === "self-hosted" && !opts.env.ENGINE_LICENCE_FILE
      ? { ENGINE_LICENCE_FILE: writeLicence(), ENGINE_LICENCE_PUBLIC_KEY: TEST_VENDOR_PUBLIC_KEY }
      : {};
  const engine = await startEngine(
    loadEngineConfig({
      ENGINE_DATABASE_URL: engineUrl,
      ENGINE_ADMIN_TOKEN: opts.token,
      ENGINE_ADMIN_PORT: String(opts.adminPort ?? 0),
      ENGINE_DICOM_PORT: String(dicomPort),
      ENGINE_MASTER_KEY: masterKey,
      ENGINE_BLOB_DIR: blobDir,
      ENGINE_GATEWAY_PORT: String(gatewayPort),
      ENGINE_GATEWAY_HOST: "127.0.0.1",
      ENGINE_CA_CERT_FILE: path.join(caDir, "ca.pem"),
      ENGINE_CA_KEY_FILE: path.join(caDir, "ca.key"),
      ...licence,
      ...opts.env,
    }),
    (m) => {
      opts.log?.(m);
      if (process.env.DEBUG_ENGINE) console.log(`[engine] ${m}`);
    },
    clock,
    opts.hooks,
  );
  return { ...engine, dicomPort, blobDir, clock, masterKey, ca };
}
