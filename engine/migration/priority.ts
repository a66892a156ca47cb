// Priority between a tenant's migrations that read from the same archive: while a higher-priority one has studies
// waiting and its window is open, a lower-priority one starts nothing new (what it has in flight finishes). Two
// migrations from different archives don't compete, and a higher-priority migration that is paused, outside its
// window or drained holds nobody back.
import { and, eq, ne, sql } from "drizzle-orm";
import type { MigrationPlan } from "../api/contract";
import type { EngineDb } from "../store/db";
import { migrations } from "../store/schema";
import { windowOpen } from "./windows";

type Source = MigrationPlan["sources"][number];

/** The archive (or folder) a source reads from, whatever id each plan gave it. */
const archiveOf = (s: Source) => (s.kind === "dicom" ? `dicom:${s.host.toLowerCase()}:${s.port}` : `filesystem:${s.path}`);

/** Whether `other` takes precedence over `mine` now: higher priority, a shared archive, its window open. */
export function outranks(other: MigrationPlan, mine: MigrationPlan, now: Date) {
  if (other.priority <= mine.priority) return false;
  const archives = new Set(mine.sources.map(archiveOf));
  return other.sources.some((s) => archives.has(archiveOf(s))) && windowOpen(other.windows, now);
}

/** Whether another running migration of the tenant, with studies still pending, takes precedence over this one. */
export async function outranked(db: EngineDb, tenantSlug: string, migrationId: string, plan: MigrationPlan) {
  const waiting = await db
    .select({ plan: migrations.plan })
    .from(migrations)
    .where(
      and(
        eq(migrations.tenantSlug, tenantSlug),
        eq(migrations.status, "running"),
        ne(migrations.id, migrationId),
        sql`exists (select 1 from migration_studies s where s.migration_id = ${migrations.id} and s.status = 'pending')`,
      ),
    );
  const now = new Date();
  return waiting.some((w) => outranks(w.plan as MigrationPlan, plan, now));
}
