// Vitest global setup: one real PostgreSQL server for the whole run.
// DATABASE_URL (a role that may create roles and databases, e.g. postgres://postgres@127.0.0.1:5432/postgres)
// selects an existing server; otherwise an embedded one is started in .test-data/ and removed afterwards.
import path from "node:path";
import { rmSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../scripts/lib/postgres";
import { freePort } from "../scripts/lib/ports";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide("pgAdminUrl", process.env.DATABASE_URL);
    return;
  }
  const dir = path.resolve(".test-data", `pg-${process.pid}`);
  const server = await startEmbeddedPostgres({ dir, port: await freePort(), persistent: false });
  project.provide("pgAdminUrl", server.adminUrl);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.superuser`, { force: true });
  };
}
