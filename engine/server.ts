import { serve } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { buildAdminApi } from "./api/app";
import type { EngineConfig } from "./config";
import { connectEngineDb, migrateEngineDatabase } from "./store/db";

/** Migrates the engine database and starts the admin API; port 0 picks a free port (tests). */
export async function startEngine(config: EngineConfig, log: (m: string) => void = (m) => console.log(`[engine] ${m}`)) {
  await migrateEngineDatabase(config.ENGINE_DATABASE_URL);
  const { db, close: closeDb } = connectEngineDb(config.ENGINE_DATABASE_URL);
  const app = buildAdminApi({ db, token: config.ENGINE_ADMIN_TOKEN, log });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.ENGINE_ADMIN_HOST, port: config.ENGINE_ADMIN_PORT }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.ENGINE_ADMIN_HOST}:${port}`;
  log(`admin API listening on ${url}`);
  return {
    url,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeDb();
    },
  };
}
