import { and, asc, eq, gt, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { EngineEvent, HeldResult, ResultQuery } from "../api/contract";
import type { EngineDb } from "../store/db";
import { engineEvents, results } from "../store/schema";

const toApi = (r: typeof results.$inferSelect): HeldResult => ({
  id: r.id,
  tenantSlug: r.tenantSlug,
  callingAe: r.callingAe,
  calledAe: r.calledAe,
  peerAddress: r.peerAddress,
  sopClassUid: r.sopClassUid,
  sopInstanceUid: r.sopInstanceUid,
  studyInstanceUid: r.studyInstanceUid,
  seriesInstanceUid: r.seriesInstanceUid,
  modality: r.modality,
  transferSyntaxUid: r.transferSyntaxUid,
  sizeBytes: r.sizeBytes,
  sha256: r.sha256,
  status: r.status,
  receivedAt: r.receivedAt.toISOString(),
  expiresAt: r.expiresAt.toISOString(),
  statusChangedAt: r.statusChangedAt.toISOString(),
  deliveryAttempts: r.deliveryAttempts,
  nextAttemptAt: r.nextAttemptAt?.toISOString() ?? null,
  lastFailureReason: r.lastFailureReason,
  deliveryFailing: r.deliveryFailingSince
    ? { since: r.deliveryFailingSince.toISOString(), reason: r.lastFailureReason ?? "", attempts: r.deliveryAttempts }
    : null,
});

export const eventToApi = (e: typeof engineEvents.$inferSelect): EngineEvent => ({
  seq: e.id,
  tenantSlug: e.tenantSlug,
  type: e.type,
  payload: e.payload as Record<string, unknown>,
  at: e.createdAt.toISOString(),
});

// Cursor: the last row's (received_at, id), so the next page continues after it however many rows there are.
const encodeCursor = (r: { receivedAt: Date; id: string }) => Buffer.from(`${r.receivedAt.toISOString()}|${r.id}`).toString("base64url");
function decodeCursor(c: string) {
  const [at, id] = Buffer.from(c, "base64url").toString().split("|");
  const date = new Date(at ?? "");
  if (!id || Number.isNaN(date.getTime())) throw new Error("invalid cursor");
  return { at: date, id };
}

/** A tenant's results, newest first, keyset-paginated. */
export async function listResults(db: EngineDb, slug: string, q: ResultQuery) {
  const where: SQL[] = [eq(results.tenantSlug, slug)];
  if (q.status?.length) where.push(inArray(results.status, q.status));
  if (q.callingAe) where.push(eq(results.callingAe, q.callingAe));
  if (q.modality) where.push(eq(results.modality, q.modality));
  if (q.sopClassUid) where.push(eq(results.sopClassUid, q.sopClassUid));
  if (q.receivedFrom) where.push(gte(results.receivedAt, new Date(q.receivedFrom)));
  if (q.receivedTo) where.push(lt(results.receivedAt, new Date(q.receivedTo)));
  if (q.uid) where.push(or(eq(results.sopInstanceUid, q.uid), eq(results.seriesInstanceUid, q.uid), eq(results.studyInstanceUid, q.uid))!);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    where.push(sql`(${results.receivedAt}, ${results.id}) < (${c.at.toISOString()}::timestamptz, ${c.id}::uuid)`);
  }
  const rows = await db
    .select()
    .from(results)
    .where(and(...where))
    .orderBy(sql`${results.receivedAt} desc, ${results.id} desc`)
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  return { results: page.map(toApi), nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!) : null };
}

export async function getResult(db: EngineDb, slug: string, id: string) {
  const [row] = await db.select().from(results).where(and(eq(results.tenantSlug, slug), eq(results.id, id)));
  if (!row) return null;
  const timeline = await db
    .select()
    .from(engineEvents)
    .where(and(eq(engineEvents.tenantSlug, slug), sql`${engineEvents.payload}->>'resultId' = ${id}`))
    .orderBy(asc(engineEvents.id));
  return { ...toApi(row), timeline: timeline.map(eventToApi) };
}

/** The durable event feed, in order, after a sequence number the consumer keeps. */
export async function eventsAfter(db: EngineDb, after: number, limit: number) {
  const rows = await db.select().from(engineEvents).where(gt(engineEvents.id, after)).orderBy(asc(engineEvents.id)).limit(limit);
  return { events: rows.map(eventToApi), nextAfter: rows.length ? rows[rows.length - 1]!.id : after };
}

