// An in-process engine on a test database, with free ports, a temporary blob directory and a clock the test owns.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadEngineConfig } from "../engine/config";
import { startEngine } from "../engine/server";
import { freePort } from "../scripts/lib/ports";

export class TestClock {
  constructor(public current = new Date()) {}
  now = () => this.current;
  advanceDays(days: number) {
    this.current = new Date(this.current.getTime() + days * 86_400_000);
  }
}

export async function startTestEngine(engineUrl: string, opts: { token: string; adminPort?: number; clock?: TestClock }) {
  const dicomPort = await freePort();
  const blobDir = mkdtempSync(path.join(os.tmpdir(), "engine-blobs-"));
  const clock = opts.clock ?? new TestClock();
  const engine = await startEngine(
    loadEngineConfig({
      ENGINE_DATABASE_URL: engineUrl,
      ENGINE_ADMIN_TOKEN: opts.token,
      ENGINE_ADMIN_PORT: String(opts.adminPort ?? 0),
      ENGINE_DICOM_PORT: String(dicomPort),
      ENGINE_MASTER_KEY: randomBytes(32).toString("base64"),
      ENGINE_BLOB_DIR: blobDir,
    }),
    process.env.DEBUG_ENGINE ? (m) => console.log(`[engine] ${m}`) : () => {},
    clock,
  );
  return { ...engine, dicomPort, blobDir, clock };
}
