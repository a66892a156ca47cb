// Checkpoints of a migration, and rollback to one. A checkpoint is taken at every pause, when a window closes on a
// running migration and hourly while it runs; its high-water mark is the migration's completion number at that
// moment (migrations.completion_seq). Every completion (a study migrated, quarantined or skipped) takes the next
// number under the migration row's lock, held until it commits, so the numbers follow commit order and a
// checkpoint, taken under the same lock, splits the studies exactly: a timestamp could not (two workers' clocks,
// a transaction that commits after a later one).
//
// Rollback puts every study completed after the checkpoint back to pending, keeps its earlier outcome (row, verified
// instances, record hash) in migration_study_history and names each with its record hash in the
// `migration.rolled_back` event, so the audit chain holds both the first run and the redo, with the reason and who.
import { randomUUID } from "node:crypto";
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { z } from "zod";
import type { MigrationCheckpoint, MigrationPlan, RollbackRequest, RolledBackStudy } from "../api/contract";
import type { EngineDb } from "../store/db";
import { checkpointReason, engineEvents, migrationCheckpoints, migrationInstances, migrations, migrationStudies, migrationStudyHistory, migrationTotals } from "../store/schema";
import { windowOpen } from "./windows";

type Tx = Parameters<Parameters<EngineDb["transaction"]>[0]>[0];
type Reason = (typeof checkpointReason)[number];
type CheckpointRow = typeof migrationCheckpoints.$inferSelect;

/** How often a running migration is checkpointed when nothing else (a pause, a window closing) did it. */
export const HOURLY_MS = 3_600_000;

const DONE = ["migrated", "quarantined", "skipped"] as const;

/**
 * The migration's next completion number, for the study a transaction is about to record as done. Call it first in
 * that transaction: every writer takes the migration row before study rows (a rollback does too), so none deadlock.
 */
export async function nextCompletion(tx: Tx, migrationId: string) {
  const [r] = await tx
    .update(migrations)
    .set({ completionSeq: sql`${migrations.completionSeq} + 1` })
    .where(eq(migrations.id, migrationId))
    .returning({ n: migrations.completionSeq });
  return r!.n;
}

const toApi = (c: CheckpointRow): MigrationCheckpoint => ({
  id: c.id,
  seq: c.seq,
  reason: c.reason,
  takenAt: c.takenAt.toISOString(),
  highWater: c.highWater,
  counts: c.counts as MigrationCheckpoint["counts"],
});

/**
 * Records a checkpoint in the caller's transaction, which must already hold the migration row's lock (an update of
 * it, or FOR UPDATE): no completion commits between reading the high-water mark and the counts.
 */
export async function recordCheckpoint(tx: Tx, m: { id: string; tenantSlug: string }, reason: Reason, takenAt = new Date()) {
  const [row] = await tx.select({ highWater: migrations.completionSeq }).from(migrations).where(eq(migrations.id, m.id));
  const [last] = await tx.select({ n: sql<number>`coalesce(max(${migrationCheckpoints.seq}), 0)::int` }).from(migrationCheckpoints).where(eq(migrationCheckpoints.migrationId, m.id));
  const totals = await tx
    .select({ status: migrationTotals.status, n: sql<number>`sum(${migrationTotals.studies})::int` })
    .from(migrationTotals)
    .where(eq(migrationTotals.migrationId, m.id))
    .groupBy(migrationTotals.status);
  const n = (s: string) => totals.find((t) => t.status === s)?.n ?? 0;
  const counts = { migrated: n("migrated"), quarantined: n("quarantined"), skipped: n("skipped"), pending: n("pending") + n("in_flight") };
  const [cp] = await tx
    .insert(migrationCheckpoints)
    .values({ id: randomUUID(), migrationId: m.id, seq: (last?.n ?? 0) + 1, reason, takenAt, highWater: row!.highWater, counts })
    .returning();
  await tx.insert(engineEvents).values({
    tenantSlug: m.tenantSlug,
    type: "migration.checkpoint",
    payload: { migrationId: m.id, checkpointId: cp!.id, seq: cp!.seq, reason, takenAt: takenAt.toISOString(), highWater: cp!.highWater, counts },
  });
  return toApi(cp!);
}

/** Every checkpoint of the migration, oldest first; null when there is no such migration in the tenant. */
export async function listCheckpoints(db: EngineDb, slug: string, migrationId: string) {
  const [m] = await db.select({ id: migrations.id }).from(migrations).where(and(eq(migrations.id, migrationId), eq(migrations.tenantSlug, slug)));
  if (!m) return null;
  const rows = await db.select().from(migrationCheckpoints).where(eq(migrationCheckpoints.migrationId, migrationId)).orderBy(asc(migrationCheckpoints.seq));
  return rows.map(toApi);
}

/** When the hourly clock last started over: the latest checkpoint, start or resume (else the row's last change). */
async function lastMark(db: EngineDb | Tx, migrationId: string) {
  const [r] = await db.execute<{ at: string | null }>(sql`
    select coalesce(greatest(
      (select max(taken_at) from migration_checkpoints where migration_id = ${migrationId}),
      (select max(created_at) from engine_events where payload->>'migrationId' = ${migrationId} and type in ('migration.started', 'migration.resumed'))
    ), (select updated_at from migrations where id = ${migrationId})) as at`);
  return r?.at ? new Date(r.at) : null;
}

/**
 * A running migration's checkpoints that no request takes: when its window has just closed (judged by the wall clock,
 * as the workers judge it when they stop taking studies), and hourly by the engine's clock (`now`, a test's own).
 * Every engine process calls this for every running migration as it polls; the conditional updates and the row lock
 * make one of them record each checkpoint.
 */
export async function checkpointTick(db: EngineDb, migrationId: string, now: Date, intervalMs = HOURLY_MS) {
  const [m] = await db.select().from(migrations).where(eq(migrations.id, migrationId));
  if (!m || m.status !== "running") return [];
  const taken: MigrationCheckpoint[] = [];
  const open = windowOpen((m.plan as MigrationPlan).windows, new Date());
  if (open !== m.windowOpenSeen) {
    const closed = await db.transaction(async (tx) => {
      const seen = m.windowOpenSeen === null ? sql`${migrations.windowOpenSeen} is null` : eq(migrations.windowOpenSeen, m.windowOpenSeen);
      const changed = await tx.update(migrations).set({ windowOpenSeen: open }).where(and(eq(migrations.id, migrationId), eq(migrations.status, "running"), seen)).returning({ id: migrations.id });
      // Only a window seen open and now closed: a migration started (or resumed) outside its window closed nothing.
      if (!changed.length || open || m.windowOpenSeen !== true) return null;
      return recordCheckpoint(tx, m, "window_close");
    });
    if (closed) taken.push(closed);
  }
  const due = (mark: Date | null) => mark !== null && now.getTime() - mark.getTime() >= intervalMs;
  if (!due(await lastMark(db, migrationId))) return taken;
  const hourly = await db.transaction(async (tx) => {
    const [locked] = await tx.select({ status: migrations.status }).from(migrations).where(eq(migrations.id, migrationId)).for("update");
    // Another engine process may have taken it while this one waited for the lock.
    if (locked?.status !== "running" || !due(await lastMark(tx, migrationId))) return null;
    return recordCheckpoint(tx, m, "hourly", now);
  });
  if (hourly) taken.push(hourly);
  return taken;
}

export type RollbackOutcome =
  | { ok: true; checkpoint: MigrationCheckpoint; studies: z.infer<typeof RolledBackStudy>[] }
  | { ok: false; status: 404 | 409; code: string; message: string };

/**
 * Back to checkpoint `checkpointId`, in one transaction: every study completed after it goes back to pending (its
 * verified instances are removed, so the redo sends and verifies it again, and the target's copy is re-hashed), its
 * earlier outcome kept in migration_study_history and named in the `migration.rolled_back` event. Only a paused or
 * completed migration with nothing in flight; it is left paused for a person to resume. Review decisions and repair
 * patches stay: they are not completions, and a repaired study is redone with its repair.
 */
export async function rollbackToCheckpoint(db: EngineDb, slug: string, migrationId: string, req: z.infer<typeof RollbackRequest>): Promise<RollbackOutcome> {
  return db.transaction(async (tx) => {
    const [m] = await tx.select().from(migrations).where(and(eq(migrations.id, migrationId), eq(migrations.tenantSlug, slug))).for("update");
    if (!m) return { ok: false, status: 404, code: "not_found", message: "No such migration in this tenant." };
    const [cp] = await tx.select().from(migrationCheckpoints).where(and(eq(migrationCheckpoints.id, req.checkpointId), eq(migrationCheckpoints.migrationId, migrationId)));
    if (!cp) return { ok: false, status: 404, code: "not_found", message: "This migration has no such checkpoint." };
    if (m.status !== "paused" && m.status !== "completed")
      return { ok: false, status: 409, code: "not_stopped", message: `The migration is ${m.status}: a rollback needs it paused or completed. Pause it, let the studies in flight finish, then roll back.` };
    const [busy] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(migrationStudies)
      .where(and(eq(migrationStudies.migrationId, migrationId), eq(migrationStudies.status, "in_flight"), sql`${migrationStudies.leaseUntil} > now()`));
    if (busy!.n) return { ok: false, status: 409, code: "in_flight", message: `${busy!.n} ${busy!.n === 1 ? "study is" : "studies are"} still in flight after the pause: wait for them to finish, then roll back.` };

    const after = and(eq(migrationStudies.migrationId, migrationId), gt(migrationStudies.completionSeq, cp.highWater), inArray(migrationStudies.status, [...DONE]));
    const rows = await tx.select().from(migrationStudies).where(after).orderBy(asc(migrationStudies.completionSeq)).for("update");
    const uids = [...new Set(rows.map((r) => r.studyInstanceUid))];
    const instances: (typeof migrationInstances.$inferSelect)[] = [];
    const hashes = new Map<string, string>();
    // In slices: a rollback of many thousand studies stays under PostgreSQL's limit on bind parameters.
    for (let i = 0; i < uids.length; i += 5000) {
      const slice = uids.slice(i, i + 5000);
      instances.push(...(await tx.select().from(migrationInstances).where(and(eq(migrationInstances.migrationId, migrationId), inArray(migrationInstances.studyInstanceUid, slice)))));
      // The record hash each study's latest study_migrated event put into the audit chain.
      const events = await tx.execute<{ source: string; study: string; hash: string }>(sql`
        select distinct on (payload->>'sourceId', payload->>'studyInstanceUid') payload->>'sourceId' as source, payload->>'studyInstanceUid' as study, payload->>'recordHash' as hash
        from engine_events
        where payload->>'migrationId' = ${migrationId} and type = 'migration.study_migrated' and payload->>'studyInstanceUid' in ${slice}
        order by payload->>'sourceId', payload->>'studyInstanceUid', id desc`);
      for (const e of events) hashes.set(`${e.source}|${e.study}`, e.hash);
    }
    const now = new Date();
    const studies = rows.map((r) => ({
      sourceId: r.sourceId,
      studyInstanceUid: r.studyInstanceUid,
      previousStatus: r.status as (typeof DONE)[number],
      previousRecordHash: r.status === "migrated" ? (hashes.get(`${r.sourceId}|${r.studyInstanceUid}`) ?? null) : null,
      completionSeq: r.completionSeq!,
    }));
    const history = rows.map((r, n) => ({
      id: randomUUID(),
      migrationId,
      sourceId: r.sourceId,
      studyInstanceUid: r.studyInstanceUid,
      checkpointId: cp.id,
      reason: req.reason,
      requestedBy: req.requestedBy,
      supersededAt: now,
      previous: {
        status: r.status,
        finishedAt: r.finishedAt?.toISOString() ?? null,
        completionSeq: r.completionSeq,
        quarantineCategory: r.quarantineCategory,
        quarantineEvidence: r.quarantineEvidence,
        decision: r.decision,
        targetStudyInstanceUid: r.targetStudyInstanceUid,
        transformApplied: r.transformApplied,
        planVersion: r.planVersion,
        recordHash: studies[n]!.previousRecordHash,
        instances: instances.filter((i) => i.studyInstanceUid === r.studyInstanceUid && (i.sourceId ?? r.sourceId) === r.sourceId).map((i) => ({ ...i, verifiedAt: i.verifiedAt.toISOString() })),
      },
    }));
    for (let i = 0; i < history.length; i += 500) await tx.insert(migrationStudyHistory).values(history.slice(i, i + 500));
    for (let i = 0; i < uids.length; i += 5000)
      await tx.delete(migrationInstances).where(and(eq(migrationInstances.migrationId, migrationId), inArray(migrationInstances.studyInstanceUid, uids.slice(i, i + 5000))));
    if (rows.length)
      await tx
        .update(migrationStudies)
        .set({ status: "pending", finishedAt: null, completionSeq: null, worker: null, leaseUntil: null, quarantineCategory: null, quarantineEvidence: null, targetStudyInstanceUid: null, transformApplied: null, planVersion: null })
        .where(after);
    await tx.update(migrations).set({ status: "paused", windowOpenSeen: null, updatedAt: now }).where(eq(migrations.id, migrationId));
    await tx.insert(engineEvents).values({
      tenantSlug: slug,
      type: "migration.rolled_back",
      payload: {
        migrationId,
        checkpointId: cp.id,
        checkpointSeq: cp.seq,
        checkpointReason: cp.reason,
        checkpointTakenAt: cp.takenAt.toISOString(),
        highWater: cp.highWater,
        reason: req.reason,
        requestedBy: req.requestedBy,
        statusBefore: m.status,
        studies,
      },
    });
    return { ok: true, checkpoint: toApi(cp), studies };
  });
}
