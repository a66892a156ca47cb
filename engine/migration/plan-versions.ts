// A migration plan is a controlled document: every change is a new numbered version (never an edit), hashed over
// its canonical JSON, and nothing runs from a version until someone approves it with an e-signature (the console
// records the signature; the engine keeps its id). Creating and approving a version each write an outbox event in
// the same transaction, so the tenant's audit chain holds every version's hash and every approval.
import { createHash } from "node:crypto";
import { and, desc, eq, max } from "drizzle-orm";
import type { z } from "zod";
import type { MigrationPlan, PlanApprovalRequest, PlanAuthor, PlanVersion } from "../api/contract";
import type { EngineDb } from "../store/db";
import { engineEvents, migrationPlanVersions, migrations } from "../store/schema";
import { canonicalJson } from "./study-record";

type Tx = Parameters<Parameters<EngineDb["transaction"]>[0]>[0];
type Author = z.infer<typeof PlanAuthor>;
type VersionRow = typeof migrationPlanVersions.$inferSelect;

/** The SHA-256 of a plan as the engine holds it: the console's planHash computes the same. */
export const planSha256 = (plan: MigrationPlan) => createHash("sha256").update(canonicalJson(plan), "utf8").digest("hex");

/** Version 1, written with the migration in createMigration's transaction. */
export async function recordFirstVersion(tx: Tx, slug: string, migrationId: string, plan: MigrationPlan, author: Author | null) {
  const sha = planSha256(plan);
  await tx.insert(migrationPlanVersions).values({ migrationId, version: 1, plan, planSha256: sha, author });
  await tx.insert(engineEvents).values({ tenantSlug: slug, type: "migration.plan_version_created", payload: { migrationId, version: 1, planSha256: sha, author } });
  return sha;
}

export async function latestVersionOf(db: EngineDb | Tx, migrationId: string) {
  const [r] = await db.select({ n: max(migrationPlanVersions.version) }).from(migrationPlanVersions).where(eq(migrationPlanVersions.migrationId, migrationId));
  return r?.n ?? 0;
}

/** The Migration contract's version fields. */
export const versionFields = (latest: number, inForce: number | null) => ({ version: latest, versionInForce: inForce, pendingVersion: latest > (inForce ?? 0) ? latest : null });

/**
 * The next version of a migration's plan. It takes effect only once approved; before any version is approved the
 * migration's plan follows the latest draft (nothing can run from it). Null when there is no such migration.
 */
export async function createPlanVersion(db: EngineDb, slug: string, migrationId: string, plan: MigrationPlan, author: Author) {
  return db.transaction(async (tx) => {
    // The migration row's lock serializes version numbers and approvals for it.
    const [m] = await tx.select().from(migrations).where(and(eq(migrations.id, migrationId), eq(migrations.tenantSlug, slug))).for("update");
    if (!m) return null;
    const version = (await latestVersionOf(tx, migrationId)) + 1;
    const sha = planSha256(plan);
    await tx.insert(migrationPlanVersions).values({ migrationId, version, plan, planSha256: sha, author });
    if (m.planVersion === null) await tx.update(migrations).set({ plan, updatedAt: new Date() }).where(eq(migrations.id, migrationId));
    await tx.insert(engineEvents).values({
      tenantSlug: slug,
      type: "migration.plan_version_created",
      payload: { migrationId, version, planSha256: sha, author, versionInForce: m.planVersion, status: m.status },
    });
    return { version, planSha256: sha };
  });
}

const stateOf = (v: VersionRow, latest: number, inForce: number | null): PlanVersion["state"] =>
  v.version === inForce ? "in_force" : v.approvedAt ? "approved" : v.version === latest ? "pending" : "superseded";

const toApi = (v: VersionRow, latest: number, inForce: number | null): PlanVersion => ({
  version: v.version,
  plan: v.plan as MigrationPlan,
  planSha256: v.planSha256,
  author: (v.author as Author | null) ?? null,
  createdAt: v.createdAt.toISOString(),
  approval: (v.approval as PlanVersion["approval"]) ?? null,
  approvedAt: v.approvedAt?.toISOString() ?? null,
  state: stateOf(v, latest, inForce),
});

/** Every version, newest first; null when there is no such migration. */
export async function listPlanVersions(db: EngineDb, slug: string, migrationId: string) {
  const [m] = await db.select({ planVersion: migrations.planVersion }).from(migrations).where(and(eq(migrations.id, migrationId), eq(migrations.tenantSlug, slug)));
  if (!m) return null;
  const rows = await db.select().from(migrationPlanVersions).where(eq(migrationPlanVersions.migrationId, migrationId)).orderBy(desc(migrationPlanVersions.version));
  const latest = rows[0]?.version ?? 0;
  return { versions: rows.map((v) => toApi(v, latest, m.planVersion)), versionInForce: m.planVersion };
}

export type ApprovalOutcome = { ok: true; version: PlanVersion } | { ok: false; status: 404 | 409; code: string; message: string };

/**
 * Approves version n: it becomes the version in force and the migration's plan (runners read it before their next
 * study, like a settings change). Refused for a superseded or already approved version, and, under the two-person
 * rule, for the version's own author (or a version whose author nobody recorded).
 */
export async function approvePlanVersion(db: EngineDb, slug: string, migrationId: string, n: number, req: z.infer<typeof PlanApprovalRequest>): Promise<ApprovalOutcome> {
  return db.transaction(async (tx) => {
    const [m] = await tx.select().from(migrations).where(and(eq(migrations.id, migrationId), eq(migrations.tenantSlug, slug))).for("update");
    if (!m) return { ok: false, status: 404, code: "not_found", message: "No such migration in this tenant." };
    const [v] = await tx.select().from(migrationPlanVersions).where(and(eq(migrationPlanVersions.migrationId, migrationId), eq(migrationPlanVersions.version, n)));
    if (!v) return { ok: false, status: 404, code: "not_found", message: `This migration has no plan version ${n}.` };
    const latest = await latestVersionOf(tx, migrationId);
    if (v.approvedAt) return { ok: false, status: 409, code: "already_approved", message: `Version ${n} is already approved (by ${(v.approval as { name?: string })?.name ?? "someone"}).` };
    if (n < latest) return { ok: false, status: 409, code: "superseded", message: `Version ${n} is superseded by version ${latest}: approve the latest version.` };
    const author = v.author as Author | null;
    if (req.requireDifferentPerson && !author)
      return { ok: false, status: 409, code: "two_person_rule", message: `Version ${n} has no recorded author, so the tenant's two-person rule cannot be met: save it again as a new version.` };
    if (req.requireDifferentPerson && author!.userId === req.signer.userId)
      return { ok: false, status: 409, code: "two_person_rule", message: `${author!.name} wrote version ${n}: the tenant's policy asks for a second person to approve it.` };
    const approvedAt = new Date();
    const approval = { userId: req.signer.userId, name: req.signer.name, meaning: req.signer.meaning, signatureId: req.signer.signatureId, signedAt: req.signer.signedAt };
    const [row] = await tx
      .update(migrationPlanVersions)
      .set({ approval, approvedAt })
      .where(and(eq(migrationPlanVersions.migrationId, migrationId), eq(migrationPlanVersions.version, n)))
      .returning();
    await tx.update(migrations).set({ plan: v.plan, planVersion: n, updatedAt: approvedAt }).where(eq(migrations.id, migrationId));
    await tx.insert(engineEvents).values({
      tenantSlug: slug,
      type: "migration.plan_version_approved",
      payload: { migrationId, version: n, planSha256: v.planSha256, author, signer: approval, previousVersion: m.planVersion, requireDifferentPerson: req.requireDifferentPerson, status: m.status },
    });
    return { ok: true, version: toApi(row!, latest, n) };
  });
}

/** Why a migration may not be discovered or started yet; null when a version is in force. */
export async function notApprovedReason(db: EngineDb, m: { id: string; planVersion: number | null }, doing: "discovered" | "started") {
  if (m.planVersion !== null) return null;
  const latest = await latestVersionOf(db, m.id);
  return latest
    ? `Version ${latest} of this plan is not approved: it is ${doing} only after someone approves it (an e-signature in the console).`
    : `This migration has no plan version to approve: save its plan as a new version, then approve it before it is ${doing}.`;
}
