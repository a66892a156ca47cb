// Control and review of a migration: pause, and the decisions a clinical reviewer makes on quarantined studies.
// Every decision is recorded with the signer's identity and meaning (as the console passes them) and lands in
// the event feed, and so in the tenant's audit chain.
import { and, eq } from "drizzle-orm";
import type { z } from "zod";
import { RETRYABLE_CATEGORIES, type ReviewDecision } from "../api/contract";
import type { EngineDb } from "../store/db";
import { engineEvents, migrations, migrationStudies } from "../store/schema";
import { nextCompletion, recordCheckpoint } from "./checkpoints";

type StudyRow = typeof migrationStudies.$inferSelect;

const toApi = (s: StudyRow) => ({
  sourceId: s.sourceId,
  studyInstanceUid: s.studyInstanceUid,
  studyDate: s.studyDate,
  modalities: s.modalities,
  category: s.quarantineCategory ?? "",
  evidence: (s.quarantineEvidence as Record<string, unknown>) ?? {},
  decision: (s.decision as Record<string, unknown>) ?? null,
  finishedAt: s.finishedAt?.toISOString() ?? null,
});

/** Running → paused, with a checkpoint of where it stood (under the row lock the update took); false when not running. */
/** `reason`: why the engine paused it itself (an expired licence), recorded with the event; none when a person did. */
export async function pauseMigration(db: EngineDb, slug: string, id: string, reason?: string) {
  return db.transaction(async (tx) => {
    // While paused nobody watches the window: a resume starts from what it sees then.
    const paused = await tx
      .update(migrations)
      .set({ status: "paused", windowOpenSeen: null, updatedAt: new Date() })
      .where(and(eq(migrations.id, id), eq(migrations.tenantSlug, slug), eq(migrations.status, "running")))
      .returning();
    if (!paused.length) return false;
    const checkpoint = await recordCheckpoint(tx, { id, tenantSlug: slug }, "pause");
    await tx.insert(engineEvents).values({ tenantSlug: slug, type: "migration.paused", payload: { migrationId: id, checkpointId: checkpoint.id, ...(reason ? { reason } : {}) } });
    return true;
  });
}

export async function listQuarantine(db: EngineDb, migrationId: string) {
  const rows = await db.select().from(migrationStudies).where(and(eq(migrationStudies.migrationId, migrationId), eq(migrationStudies.status, "quarantined")));
  return rows.map(toApi);
}

const EVENT = { skip: "skipped", repair: "repaired", retry: "retried", escalate: "escalated" } as const;

/** Why a retry cannot help: a study quarantined for what it contains fails the same way when sent unchanged. */
const notRetryable = (category: string | null) =>
  (RETRYABLE_CATEGORIES as readonly string[]).includes(category ?? "")
    ? null
    : `A study quarantined for ${category ?? "an unknown reason"} fails the same way if it is sent again unchanged: repair it with a tag patch, or skip it. Retry is for a source or target that was away, or a study served short.`;

/**
 * skip: excluded, counted, reasoned. repair: back to pending with its tag patch. retry: back to pending unchanged
 * (only for a transient cause). escalate: stays quarantined. Null when the study is not quarantined now.
 */
export async function decideStudy(db: EngineDb, m: { id: string; tenantSlug: string; status: string }, d: z.infer<typeof ReviewDecision>) {
  return db.transaction(async (tx) => {
    // The migration row before the study's, as every completion and a rollback take them (checkpoints.ts).
    await tx.select({ id: migrations.id }).from(migrations).where(eq(migrations.id, m.id)).for("update");
    const where = and(eq(migrationStudies.migrationId, m.id), eq(migrationStudies.sourceId, d.sourceId), eq(migrationStudies.studyInstanceUid, d.studyInstanceUid), eq(migrationStudies.status, "quarantined"));
    const [row] = await tx.select().from(migrationStudies).where(where).for("update");
    if (!row) return null;
    const refused = d.decision === "retry" && notRetryable(row.quarantineCategory);
    if (refused) return { ok: false as const, refused };
    const decision = { decision: d.decision, reason: d.reason, signer: d.signer, at: new Date().toISOString(), previousCategory: row.quarantineCategory, patch: d.patch ?? null };
    const runsAgain = d.decision === "repair" || d.decision === "retry";
    const status = d.decision === "skip" ? "skipped" : runsAgain ? "pending" : "quarantined";
    // A skip completes the study: it takes a completion number, so a rollback past it undoes the skip too.
    const completionSeq = d.decision === "skip" ? await nextCompletion(tx, m.id) : undefined;
    const [after] = await tx
      .update(migrationStudies)
      .set({ status, decision, ...(completionSeq !== undefined ? { completionSeq } : {}), ...(d.decision === "repair" ? { repairPatch: d.patch } : {}) })
      .where(where)
      .returning();
    // A study that runs again makes a completed migration run again (the runners pick it up within a poll);
    // a paused or scheduled-out one takes it when it resumes.
    if (runsAgain && m.status === "completed") await tx.update(migrations).set({ status: "running", updatedAt: new Date() }).where(eq(migrations.id, m.id));
    await tx.insert(engineEvents).values({
      tenantSlug: m.tenantSlug,
      type: `migration.study_${EVENT[d.decision]}`,
      payload: { migrationId: m.id, sourceId: d.sourceId, studyInstanceUid: d.studyInstanceUid, reason: d.reason, signer: d.signer, patch: d.patch ?? null },
    });
    return { ok: true as const, study: toApi(after!) };
  });
}
