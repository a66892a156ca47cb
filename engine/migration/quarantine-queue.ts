// A tenant's quarantine across its migrations, as the clinical review queue reads it: every study ever quarantined
// (a resolved or skipped one stays listed with its decision), oldest first, keyset-paged, with open counts per category.
import { and, asc, eq, or, sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import type { QuarantineItem, QuarantineQuery } from "../api/contract";
import type { EngineDb } from "../store/db";
import { migrations, migrationStudies } from "../store/schema";

type Item = z.infer<typeof QuarantineItem>;
type Query = z.infer<typeof QuarantineQuery>;

/** The review state, from the study's status and its latest decision. */
const state = sql<Item["state"]>`case
  when ${migrationStudies.status} = 'skipped' then 'skipped'
  when ${migrationStudies.status} = 'migrated' then 'resolved'
  when ${migrationStudies.status} in ('pending', 'in_flight') then 'repairing'
  when ${migrationStudies.decision}->>'decision' = 'escalate' then 'escalated'
  else 'new' end`;
/** Ever quarantined: quarantined now, or decided on (a decision is only ever taken on a quarantined study). */
const everQuarantined = or(eq(migrationStudies.status, "quarantined"), sql`${migrationStudies.decision} is not null`)!;
const isOpen = sql`(${state}) in ('new', 'escalated', 'repairing')`;
const category = sql<string>`coalesce(${migrationStudies.quarantineCategory}, ${migrationStudies.decision}->>'previousCategory', '')`;

export const itemId = (r: { migrationId: string; sourceId: string; studyInstanceUid: string }) => `${r.migrationId}~${r.sourceId}~${r.studyInstanceUid}`;
export function parseItemId(id: string) {
  const [migrationId, sourceId, studyInstanceUid] = id.split("~") as [string, string, string];
  return { migrationId, sourceId, studyInstanceUid };
}

const columns = {
  migrationId: migrationStudies.migrationId,
  migrationName: sql<string>`${migrations.plan}->>'name'`,
  sourceId: migrationStudies.sourceId,
  studyInstanceUid: migrationStudies.studyInstanceUid,
  studyDate: migrationStudies.studyDate,
  modalities: migrationStudies.modalities,
  category,
  evidence: migrationStudies.quarantineEvidence,
  decision: migrationStudies.decision,
  state,
  finishedAt: migrationStudies.finishedAt,
};
type Row = { [K in keyof typeof columns]: unknown } & { migrationId: string; sourceId: string; studyInstanceUid: string; finishedAt: Date | null };

function toItem(r: Row): Item {
  const evidence = (r.evidence as Record<string, unknown> | null) ?? {};
  return {
    id: itemId(r),
    migrationId: r.migrationId,
    migrationName: String(r.migrationName ?? ""),
    sourceId: r.sourceId,
    studyInstanceUid: r.studyInstanceUid,
    studyDate: (r.studyDate as string | null) ?? null,
    modalities: (r.modalities as string[]) ?? [],
    category: String(r.category ?? ""),
    reason: String(evidence.message ?? (r.decision as { reason?: string } | null)?.reason ?? ""),
    evidence,
    state: r.state as Item["state"],
    decision: (r.decision as Record<string, unknown> | null) ?? null,
    quarantinedAt: r.finishedAt?.toISOString() ?? null,
  };
}

const encodeCursor = (r: Row) => Buffer.from(JSON.stringify([r.finishedAt?.toISOString() ?? null, r.migrationId, r.sourceId, r.studyInstanceUid])).toString("base64url");
function decodeCursor(cursor: string): [string, string, string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString()) as unknown;
    if (Array.isArray(v) && v.length === 4 && typeof v[0] === "string" && v.slice(1).every((x) => typeof x === "string")) return v as [string, string, string, string];
  } catch {}
  throw new Error("invalid cursor");
}

export async function listTenantQuarantine(db: EngineDb, slug: string, q: Query) {
  const where: (SQL | undefined)[] = [eq(migrations.tenantSlug, slug), everQuarantined];
  if (q.state === "open") where.push(isOpen);
  else where.push(sql`(${state}) = ${q.state}`);
  if (q.category) where.push(sql`(${category}) = ${q.category}`);
  if (q.cursor) {
    const [at, mid, src, uid] = decodeCursor(q.cursor);
    where.push(sql`(${migrationStudies.finishedAt}, ${migrationStudies.migrationId}, ${migrationStudies.sourceId}, ${migrationStudies.studyInstanceUid}) > (${at}::timestamptz, ${mid}::uuid, ${src}, ${uid})`);
  }
  const rows = (await db
    .select(columns)
    .from(migrationStudies)
    .innerJoin(migrations, eq(migrations.id, migrationStudies.migrationId))
    .where(and(...where))
    .orderBy(asc(migrationStudies.finishedAt), asc(migrationStudies.migrationId), asc(migrationStudies.sourceId), asc(migrationStudies.studyInstanceUid))
    .limit(q.limit + 1)) as Row[];
  const counted = await db
    .select({ category, n: sql<number>`count(*)::int` })
    .from(migrationStudies)
    .innerJoin(migrations, eq(migrations.id, migrationStudies.migrationId))
    .where(and(eq(migrations.tenantSlug, slug), everQuarantined, isOpen))
    .groupBy(category);
  const page = rows.slice(0, q.limit);
  return {
    items: page.map(toItem),
    counts: Object.fromEntries(counted.map((c) => [c.category, c.n])),
    nextCursor: rows.length > q.limit ? encodeCursor(page.at(-1)!) : null,
  };
}

export async function getTenantQuarantineItem(db: EngineDb, slug: string, id: string) {
  const k = parseItemId(id);
  const [row] = (await db
    .select(columns)
    .from(migrationStudies)
    .innerJoin(migrations, eq(migrations.id, migrationStudies.migrationId))
    .where(and(eq(migrations.tenantSlug, slug), eq(migrationStudies.migrationId, k.migrationId), eq(migrationStudies.sourceId, k.sourceId), eq(migrationStudies.studyInstanceUid, k.studyInstanceUid), everQuarantined))) as Row[];
  return row ? toItem(row) : null;
}
