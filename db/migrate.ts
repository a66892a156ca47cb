// Applies the committed drizzle-kit migrations to the console database as its owner, then grants the
// application role exactly what it needs. Run at start-up by the launcher (and by tests).
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";

const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), "migrations");

export async function migrateConsoleDatabase(ownerUrl: string, appRole: string) {
  const sql = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(sql), { migrationsFolder });
    const role = `"${appRole.replace(/"/g, '""')}"`;
    await sql.begin(async (tx) => {
      await tx.unsafe(`grant usage on schema public to ${role}`);
      await tx.unsafe(`grant select, insert, update, delete on all tables in schema public to ${role}`);
      await tx.unsafe(`grant usage, select on all sequences in schema public to ${role}`);
      await tx.unsafe(`revoke update, delete, truncate on audit_entries, audit_checkpoints, quarantine_signatures from ${role}`);
      // The worker's job queue (pg-boss) creates and owns its tables in its own schema (no tenant data there).
      await tx.unsafe(`create schema if not exists pgboss`);
      await tx.unsafe(`grant usage, create on schema pgboss to ${role}`);
    });
  } finally {
    await sql.end();
  }
}
