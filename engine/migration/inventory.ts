// What discovery found, before anything is moved: studies and instances per source, modality and study year, read
// from the discovered studies themselves (a study with several modalities counts once under each).
import { eq, sql } from "drizzle-orm";
import type { MigrationInventory } from "../api/contract";
import type { EngineDb } from "../store/db";
import { migrationStudies } from "../store/schema";

export async function migrationInventory(db: EngineDb, migrationId: string): Promise<MigrationInventory> {
  const s = migrationStudies;
  const modality = sql<string>`coalesce(nullif(m.modality, ''), '—')`;
  const year = sql<string>`coalesce(substr(${s.studyDate}, 1, 4), 'unknown')`;
  const rows = await db
    .select({ sourceId: s.sourceId, modality, year, studies: sql<number>`count(*)::int`, instances: sql<number>`coalesce(sum(${s.instances}), 0)::int` })
    .from(s)
    .leftJoin(sql`lateral unnest(case when cardinality(${s.modalities}) = 0 then array['']::text[] else ${s.modalities} end) as m(modality)`, sql`true`)
    .where(eq(s.migrationId, migrationId))
    .groupBy(s.sourceId, modality, year)
    .orderBy(s.sourceId, modality, year);
  const [totals] = await db
    .select({
      studies: sql<number>`count(*)::int`,
      instances: sql<number>`coalesce(sum(${s.instances}), 0)::int`,
      instancesUnknown: sql<number>`count(*) filter (where ${s.instances} is null)::int`,
    })
    .from(s)
    .where(eq(s.migrationId, migrationId));
  return { ...totals!, rows };
}
