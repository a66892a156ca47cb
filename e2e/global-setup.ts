// Starts the real stack (embedded PostgreSQL, dev IdP, engine, worker, web) on ports chosen now, with a fresh
// data directory, for the end-to-end suite; returns its teardown.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../scripts/lib/ports";
import { startStack } from "../scripts/lib/stack";

export default async function globalSetup() {
  const root = path.resolve(import.meta.dirname, "..");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "console-e2e-"));
  const ports = {
    web: await freePort(),
    idp: await freePort(),
    engineAdmin: await freePort(),
    engineDicom: await freePort(),
    gateway: await freePort(),
  };
  // The e2e stack always runs the embedded default with demo data, whatever this shell points at.
  const env = { ...process.env };
  for (const k of ["DATABASE_URL", "ENGINE_DATABASE_URL", "DATABASE_OWNER_URL", "AUTH_OIDC_ISSUER", "AUTH_URL", "AUTH_SECRET", "ENGINE_ADMIN_TOKEN"]) delete env[k];
  // The engine's test-only fault injection: specs write SOP instance UIDs into this file (engine/migration/test-faults.ts).
  env.ENGINE_TEST_FAULT_FILE = path.join(dataDir, "engine-faults.json");
  process.env.E2E_ENGINE_FAULT_FILE = env.ENGINE_TEST_FAULT_FILE;
  // Quarantine specs migrate studies from folders under the tenants' import root (exact bytes, no source archive).
  env.ENGINE_IMPORT_ROOT = path.join(dataDir, "import");
  process.env.E2E_IMPORT_ROOT = env.ENGINE_IMPORT_ROOT;
  // A short step-up window, so a spec can see a signature refused for a stale sign-in without waiting minutes.
  env.AUTH_STEP_UP_MAX_AGE_SECONDS = "40";
  // The webhook receivers in the specs listen on loopback, which production refuses.
  env.WEBHOOKS_ALLOW_PRIVATE = "1";
  env.WORKER_MIGRATION_WATCH_SECONDS = "2";
  // The specs count Northside's migrations and quarantine items from what they create themselves.
  env.DEMO_MIGRATION = "0";
  const stack = await startStack({ root, dataDir, ports, env, quiet: !process.env.E2E_VERBOSE });
  process.env.E2E_WEB_URL = stack.webUrl;
  process.env.E2E_ENGINE_ADMIN_URL = stack.engineAdminUrl;
  process.env.E2E_ENGINE_ADMIN_TOKEN = stack.engineAdminToken;
  process.env.E2E_DATA_DIR = dataDir;
  process.env.E2E_ENGINE_DICOM_PORT = String(ports.engineDicom);
  process.env.E2E_GATEWAY_PORT = String(ports.gateway);
  // Specs run in worker processes: they stop and start the engine through this loopback control endpoint.
  const control = http.createServer((req, res) => {
    const act = req.url === "/engine/stop" ? stack.stopEngine : req.url === "/engine/start" ? stack.startEngine : null;
    if (req.method !== "POST" || !act) return void res.writeHead(404).end();
    act().then(() => res.writeHead(204).end(), (e) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((r) => control.listen(0, "127.0.0.1", r));
  process.env.E2E_CONTROL_URL = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  return async () => {
    control.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
