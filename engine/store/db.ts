import path from "node:path";
import { fileURLToPath } from "node:url";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema";

/** drizzle over postgres.js; `$client` is the postgres.js pool (for named prepared statements on hot paths). */
export type EngineDb = PostgresJsDatabase<typeof schema> & { $client: postgres.Sql };

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export function connectEngineDb(url: string) {
  const client = postgres(url, { max: 10, onnotice: () => {} });
  return { db: drizzle(client, { schema }), close: () => client.end({ timeout: 5 }) };
}

/** Applies the engine's committed migrations (idempotent; run at every start). */
export async function migrateEngineDatabase(url: string) {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.end();
  }
}
