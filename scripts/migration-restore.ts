// npm run migration:restore -- --backup <backup.json> --trusted-key <base64 | PEM file> [--database <engine db url>]
//
// Loads a migration:backup file into an engine database (brought to the engine's schema first, so a fresh empty
// one will do), after checking its SHA-256 and that a trusted key signed it. One transaction, in dependency order,
// and refused if the database already holds the migration. Verified studies stay migrated with their instance
// hashes, so resuming there sends nothing already verified; studies that were in flight go back to pending and
// are redone. A running migration arrives paused (resume it when this engine should take over) and one caught
// mid-discovery arrives failed (discover again). The migration's old events are not replayed into this outbox:
// the console's audit chain already received them, and would hold them twice; a `migration.restored` event, in
// the same transaction, names the backup instead. Exit status: 0 restored, 2 refused or could not run (named).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { connectEngineDb, migrateEngineDatabase, type EngineDb } from "../engine/store/db";
import { engineEvents } from "../engine/store/schema";
import { BACKUP_TABLES, Refused, readBackup, trustedKeyOf, type BackupDocument } from "./lib/migration-backup-format";
import { engineSchemaTag } from "./migration-backup";

const usage = "usage: npm run migration:restore -- --backup <backup.json> --trusted-key <base64|file.pem> [--trusted-key …] [--database <url>]\n       (trusted keys may instead be in MIGRATION_BACKUP_TRUSTED_KEYS, comma-separated; the database in ENGINE_DATABASE_URL)";

type Row = Record<string, unknown>;

/** Rows as the restoring engine must hold them: nothing claimed by a worker of the old engine, nothing running by itself. */
export function adjustForRestore(doc: BackupDocument, now: Date) {
  const [m] = doc.content.tables.migrations as Row[];
  const status = String(m!.status);
  const migration = {
    ...m!,
    status: status === "running" ? "paused" : status === "discovering" ? "failed" : status,
    last_error: status === "discovering" ? "restored from a backup taken during discovery: discover again" : m!.last_error,
    updated_at: now.toISOString(),
  };
  let requeued = 0;
  const studies = (doc.content.tables.migration_studies as Row[]).map((s) => {
    if (s.status !== "in_flight") return s;
    requeued++;
    return { ...s, status: "pending", worker: null, lease_until: null };
  });
  return { migration, studies, requeued, statusBefore: status };
}

/** Every row must belong to the backup's migration: a signed file with a stray row is still not restored. */
function checkRows(doc: BackupDocument) {
  const id = doc.content.migrationId;
  const t = doc.content.tables;
  if (t.migrations.length !== 1 || t.migrations[0]!.id !== id || t.migrations[0]!.tenant_slug !== doc.content.tenantSlug)
    throw new Refused(`the backup's migrations table must hold exactly migration ${id} of tenant ${doc.content.tenantSlug}`);
  for (const table of BACKUP_TABLES) {
    const stray = (t[table.name] as Row[]).find((r) => r[table.key] !== id);
    if (stray) throw new Refused(`the backup's ${table.name} holds a row of another migration (${String(stray[table.key])})`);
  }
}

export async function restoreBackup(db: EngineDb, doc: BackupDocument, now = new Date()) {
  checkRows(doc);
  const id = doc.content.migrationId;
  const { migration, studies, requeued, statusBefore } = adjustForRestore(doc, now);
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local time zone 'UTC'`);
    const [existing] = await tx.execute<{ tenant_slug: string; status: string }>(sql`select tenant_slug, status from migrations where id = ${id}`);
    if (existing) throw new Refused(`this engine database already holds migration ${id} (tenant ${existing.tenant_slug}, ${existing.status}): restore into a fresh engine database`);
    // A column the backup has and this engine's table lacks would be dropped without a word: refuse instead.
    const columns = await tx.execute<{ table_name: string; column_name: string }>(
      sql`select table_name, column_name from information_schema.columns where table_schema = current_schema() and table_name in ${BACKUP_TABLES.map((t) => t.name)}`,
    );
    const known = new Set(columns.map((c) => `${c.table_name}.${c.column_name}`));
    const rowsOf = (name: string): Row[] => (name === "migrations" ? [migration] : name === "migration_studies" ? studies : (doc.content.tables[name as keyof typeof doc.content.tables] as Row[]));
    for (const t of BACKUP_TABLES) {
      for (const col of new Set(rowsOf(t.name).flatMap((r) => Object.keys(r)))) {
        if (!known.has(`${t.name}.${col}`)) throw new Refused(`the backup has ${t.name}.${col}, which this engine's schema (${engineSchemaTag()}) lacks: restore with the engine version that made it (${doc.content.engineSchema})`);
      }
    }
    const insert = async (name: string, rows: Row[]) => {
      // jsonb_populate_recordset maps each row's keys onto the table's own columns, by name.
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = JSON.stringify(rows.slice(i, i + 1000));
        await tx.execute(sql`insert into ${sql.identifier(name)} select * from jsonb_populate_recordset(null::${sql.identifier(name)}, ${chunk}::jsonb)`);
      }
    };
    for (const t of BACKUP_TABLES) {
      // The triggers filled the roll-ups from the study and instance rows just inserted; the backup's hourly and daily
      // history replaces what they made (it also holds what the rows no longer show). migration_totals stays theirs.
      if (t.name === "migration_hourly" || t.name === "migration_daily" || t.name === "migration_quarantine_hourly")
        await tx.execute(sql`delete from ${sql.identifier(t.name)} where migration_id = ${id}`);
      await insert(t.name, rowsOf(t.name));
    }
    const counts: Record<string, number> = {};
    for (const s of studies) counts[String(s.status)] = (counts[String(s.status)] ?? 0) + 1;
    const payload = {
      migrationId: id,
      backupSha256: doc.sha256,
      signedBy: doc.publicKey,
      takenAt: doc.content.takenAt,
      engineSchema: doc.content.engineSchema,
      statusInBackup: statusBefore,
      status: migration.status,
      studies: counts,
      requeued,
      verifiedInstances: doc.content.tables.migration_instances.length,
      eventsInBackup: doc.content.events.length,
    };
    await tx.insert(engineEvents).values({ tenantSlug: doc.content.tenantSlug, type: "migration.restored", payload });
    return payload;
  });
}

async function main() {
  const { values } = parseArgs({
    options: {
      backup: { type: "string" },
      "trusted-key": { type: "string", multiple: true },
      database: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void console.log(usage);
  if (!values.backup) throw new Refused(usage);
  const given = values["trusted-key"] ?? (process.env.MIGRATION_BACKUP_TRUSTED_KEYS ?? "").split(",").filter((k) => k.trim());
  if (!given.length) throw new Refused("no trusted key: pass --trusted-key <base64|file.pem> (the public key migration:backup printed) or set MIGRATION_BACKUP_TRUSTED_KEYS");
  const trusted = given.map((k) => trustedKeyOf(existsSync(k) ? readFileSync(k, "utf8") : k));
  const doc = readBackup(values.backup, trusted);
  const url = values.database ?? process.env.ENGINE_DATABASE_URL;
  if (!url) throw new Refused("no engine database: pass --database <url> or set ENGINE_DATABASE_URL");
  await migrateEngineDatabase(url);
  const { db, close } = connectEngineDb(url);
  try {
    const r = await restoreBackup(db, doc);
    const studies = Object.entries(r.studies).map(([s, n]) => `${n} ${s}`).join(", ") || "no studies";
    console.error(
      `RESTORED: migration ${r.migrationId} (tenant ${doc.content.tenantSlug}, ${r.status}${r.status !== r.statusInBackup ? `, was ${r.statusInBackup}` : ""}): ${studies}` +
        `${r.requeued ? ` (${r.requeued} in flight put back to pending)` : ""}, ${r.verifiedInstances} verified instances; backup sha256 ${r.backupSha256}`,
    );
  } finally {
    await close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((e) => {
    console.error(e instanceof Refused ? `REFUSED: ${e.message}` : `could not restore: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  });
}
