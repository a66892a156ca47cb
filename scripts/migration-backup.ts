// npm run migration:backup -- --migration <id> --key <ed25519.pem> [--database <engine db url>] [--out backup.json]
//
// One migration's whole state from the engine database, in one signed file (imgops-migration-backup/1, see
// scripts/lib/migration-backup-format.ts): the migration and its plan versions with their approvals, every study
// row (status, quarantine category and evidence, decision, repair patch, lease), every verified instance with its
// hashes, a folder source's files, the quarantine evidence rows, the roll-up history and the migration's outbox
// events. It is read in one repeatable-read snapshot, so a running migration backs up consistently. Restore it
// with migration:restore. Exit status: 0 written, 2 the command could not run (named).
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { connectEngineDb, type EngineDb } from "../engine/store/db";
import { BACKUP_TABLES, Refused, loadSigningKey, signBackup, type BackupContent, type BackupTable } from "./lib/migration-backup-format";

const usage = "usage: npm run migration:backup -- --migration <id> --key <ed25519.pem> [--database <url>] [--out backup.json]\n       (the key may instead be in MIGRATION_BACKUP_KEY, the database in ENGINE_DATABASE_URL)";

/** The newest engine schema migration: a restore into an engine of another schema can tell. */
export function engineSchemaTag() {
  const journal = JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../engine/store/migrations/meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  return journal.entries.at(-1)?.tag ?? "";
}

export function migrationIdOf(text: string | undefined) {
  if (!text) throw new Refused(usage);
  if (!z.uuid().safeParse(text).success) throw new Refused(`--migration "${text}" is not a migration id: it is the UUID in /v1/tenants/{slug}/migrations/{id}`);
  return text;
}

/**
 * The rows as PostgreSQL renders them (to_jsonb: every column, timestamps ISO 8601 in UTC at full precision), so
 * a column added to a table later is backed up without changing this script.
 */
export async function takeBackup(db: EngineDb, migrationId: string, now = new Date()): Promise<BackupContent> {
  return db.transaction(
    async (tx) => {
      await tx.execute(sql`set local time zone 'UTC'`);
      const [m] = await tx.execute<{ tenant_slug: string }>(sql`select tenant_slug from migrations where id = ${migrationId}`);
      if (!m) throw new Refused(`this engine database has no migration ${migrationId}`);
      const tables = {} as Record<BackupTable, Record<string, unknown>[]>;
      for (const t of BACKUP_TABLES) {
        const rows = await tx.execute<{ row: Record<string, unknown> }>(
          sql`select to_jsonb(t) as row from ${sql.identifier(t.name)} t where ${sql.identifier(t.key)} = ${migrationId} order by ${sql.raw(t.order)}`,
        );
        tables[t.name] = rows.map((r) => r.row);
      }
      const events = await tx.execute<{ row: Record<string, unknown> }>(sql`select to_jsonb(e) as row from engine_events e where payload->>'migrationId' = ${migrationId} order by id`);
      return { migrationId, tenantSlug: m.tenant_slug, takenAt: now.toISOString(), engineSchema: engineSchemaTag(), tables, events: events.map((e) => e.row) };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

async function main() {
  const { values } = parseArgs({
    options: {
      migration: { type: "string" },
      key: { type: "string" },
      database: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void console.log(usage);
  const migrationId = migrationIdOf(values.migration);
  const url = values.database ?? process.env.ENGINE_DATABASE_URL;
  if (!url) throw new Refused("no engine database: pass --database <url> or set ENGINE_DATABASE_URL");
  const key = loadSigningKey(values.key);
  if (key.created) console.error(`generated an Ed25519 key in ${key.created}`);
  console.error(`public key (Ed25519, base64): ${key.publicKey}`);
  const { db, close } = connectEngineDb(url);
  try {
    const content = await takeBackup(db, migrationId);
    const doc = signBackup(content, key.privateKey, key.publicKey);
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (values.out) writeFileSync(values.out, text, { mode: 0o600 });
    else process.stdout.write(text);
    const t = content.tables;
    const status = (t.migrations[0] as { status?: string }).status;
    console.error(
      `BACKED UP: migration ${migrationId} (tenant ${content.tenantSlug}, ${status}): ${t.migration_plan_versions.length} plan versions, ` +
        `${t.migration_studies.length} studies, ${t.migration_instances.length} verified instances, ${t.quarantine_evidence.length} evidence rows, ` +
        `${content.events.length} events${values.out ? ` → ${values.out}` : ""} (sha256 ${doc.sha256})`,
    );
  } finally {
    await close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((e) => {
    console.error(e instanceof Refused ? e.message : `could not back up: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  });
}
