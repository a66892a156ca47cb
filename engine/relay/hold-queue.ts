// The hold queue: each stored instance is a result that moves held → notified → pulled → acked (or expired /
// purged). Every transition writes its event to the outbox in the same transaction.
import { and, eq, inArray, isNotNull, lte, sql } from "drizzle-orm";
import type { BlobStore } from "../store/blob-store";
import type { EngineDb } from "../store/db";
import type { Keyring } from "../store/keyring";
import { LIVE_STATUSES, engineEvents, results } from "../store/schema";

type Tx = Parameters<Parameters<EngineDb["transaction"]>[0]>[0];
export type Result = typeof results.$inferSelect;
export type ResultStatus = Result["status"];

export type Received = Omit<Result, "status" | "expiresAt" | "statusChangedAt">;

async function event(tx: Tx, r: Pick<Result, "id" | "tenantSlug">, type: string, payload: Record<string, unknown> = {}) {
  await tx.insert(engineEvents).values({ tenantSlug: r.tenantSlug, type, payload: { resultId: r.id, ...payload } });
}

// Stored instances are recorded through the group commit in hold-queue-writer.ts (`hold_queue_write`, which runs
// `record_received` for each: TTL, replace-or-insert of the live result for the SOP instance, outbox event).

/**
 * Moves a result from one of `from` to `to`; returns null when it was not in such a state (so repeated calls are
 * harmless). With `dropBlob` the row forgets its bytes and `blobId` says which blob the caller should delete.
 */
export async function transition(
  db: EngineDb,
  where: { tenantSlug: string; id: string },
  from: ResultStatus[],
  to: ResultStatus,
  payload: Record<string, unknown> = {},
  opts: { dropBlob?: boolean; now?: Date } = {},
): Promise<{ result: Result; blobId: string | null } | null> {
  return db.transaction(async (tx) => {
    const now = opts.now ?? new Date();
    // By primary key alone, tenant and state checked on the row: with them in the WHERE the planner can pick the
    // (tenant, status, …) index, which walks every entry results ever left under that status until vacuum.
    const [current] = await tx.select().from(results).where(eq(results.id, where.id)).for("update");
    if (!current || current.tenantSlug !== where.tenantSlug || !from.includes(current.status)) return null;
    const [row] = await tx
      .update(results)
      .set({ status: to, statusChangedAt: now, ...(opts.dropBlob ? { blobId: null } : {}) })
      .where(eq(results.id, current.id))
      .returning();
    await event(tx, current, `result.${to}`, { from: current.status, ...payload });
    return { result: row!, blobId: current.blobId };
  });
}

/**
 * The TTL purger's step: live results past their expiry are expired (event, bytes and row deleted); rows kept only
 * for their history (acked, purged) go when their TTL would have expired them. `now` comes from the caller's clock.
 */
export async function expireDue(db: EngineDb, now: Date, deleteBlob: (slug: string, blobId: string) => Promise<void>, batch = 500) {
  let expired = 0;
  for (;;) {
    const due = await db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(results)
        .where(lte(results.expiresAt, now))
        .orderBy(results.expiresAt)
        .limit(batch)
        .for("update", { skipLocked: true });
      for (const r of rows) {
        if ((LIVE_STATUSES as readonly string[]).includes(r.status)) {
          await event(tx, r, "result.expired", { status: r.status, expiresAt: r.expiresAt.toISOString() });
          expired++;
        }
      }
      if (rows.length) await tx.delete(results).where(inArray(results.id, rows.map((r) => r.id)));
      return rows;
    });
    for (const r of due) if (r.blobId) await deleteBlob(r.tenantSlug, r.blobId);
    if (due.length < batch) return expired;
  }
}

/** A tenant's TTL changed: every result still in the queue gets expires_at = received_at + the new TTL. */
export async function recomputeExpiry(tx: Tx, slug: string, ttlDays: number) {
  await tx
    .update(results)
    .set({ expiresAt: sql`${results.receivedAt} + make_interval(days => ${ttlDays})` })
    .where(eq(results.tenantSlug, slug));
}

/** The effect of a TTL of `ttlDays` on the tenant's live results, as of `now`, in one pass over the queue. */
export async function previewRetention(db: EngineDb, slug: string, ttlDays: number, now: Date) {
  const next = sql`${results.receivedAt} + make_interval(days => ${ttlDays})`;
  const nowTs = sql`${now.toISOString()}::timestamptz`;
  const [row] = await db
    .select({
      live: sql<number>`count(*)::int`,
      expireImmediately: sql<number>`(count(*) filter (where ${next} <= ${nowTs}))::int`,
      gainTime: sql<number>`(count(*) filter (where ${next} > ${results.expiresAt}))::int`,
      loseTime: sql<number>`(count(*) filter (where ${next} < ${results.expiresAt} and ${next} > ${nowTs}))::int`,
    })
    .from(results)
    .where(and(eq(results.tenantSlug, slug), inArray(results.status, [...LIVE_STATUSES])));
  const r = row!;
  return { ttlDays, ...r, unchanged: r.live - r.expireImmediately - r.gainTime - r.loseTime };
}

/**
 * At start-up: ingest commits a result's row while its blob is fsynced, so an engine that stopped in between left
 * a row whose blob is still <id>.partial. A complete one (it decrypts, the tag checks out) is put in place; an
 * incomplete one means the C-STORE was never confirmed, and the result is purged with the reason. A live row with
 * no blob file at all is left alone and counted (a wrong blob directory must not purge the queue).
 */
export async function recoverUndurableResults(db: EngineDb, blobs: BlobStore, keyring: Keyring, now: Date) {
  const counts = { kept: 0, purged: 0, missing: 0 };
  const rows = await db
    .select({ id: results.id, tenantSlug: results.tenantSlug, blobId: results.blobId })
    .from(results)
    .where(and(inArray(results.status, [...LIVE_STATUSES]), isNotNull(results.blobId)));
  for (let i = 0; i < rows.length; i += 64) {
    await Promise.all(
      rows.slice(i, i + 64).map(async (r) => {
        if (await blobs.exists(r.tenantSlug, r.blobId!)) return;
        const outcome = await blobs.recoverPartial(await keyring.dataKey(r.tenantSlug), r.tenantSlug, r.blobId!);
        if (outcome === "kept") counts.kept++;
        else if (outcome === "absent") counts.missing++;
        else {
          await transition(db, r, [...LIVE_STATUSES], "purged", { reason: "engine stopped before the stored bytes were durable; the C-STORE was never confirmed" }, { dropBlob: true, now });
          counts.purged++;
        }
      }),
    );
  }
  return counts;
}
