import "server-only";
// The closeout's clinical spot-check: an approver picks N migrated studies at random (by a seed, kept), and
// clinical reviewers open each one as the target holds it now, in the viewer, and sign that they looked at it.
// The list, each signature and its audit entry are written in one transaction each; both tables are append-only.
import { createHash, randomBytes } from "node:crypto";
import { desc, eq } from "drizzle-orm";
import { z } from "zod";
import { migrationSpotCheckLists, migrationSpotChecks } from "@/db/schema";
import { Uid, VerificationReport } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import { can } from "../auth/permissions";
import type { SignedInUser } from "../auth/session";
import { bindRecord } from "../auth/signature-binding";
import { requireFreshAuth } from "../auth/step-up";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { ForbiddenError, InputError, NotFoundError } from "../errors";

const MigrationId = z.uuid("not a migration id");
export const SPOT_CHECK_MEANING = "I have looked at this study's images as the target holds them";
export const ListInput = z.object({
  count: z.coerce.number({ error: "The number of studies is a number." }).int("A whole number of studies.").min(1, "Pick at least one study.").max(50, "At most 50 studies on one list."),
  seed: z.string().trim().max(64, "At most 64 characters.").transform((s) => s || undefined),
});
export const SpotCheckInput = z.object({
  meaning: z.string().trim().min(3, "State what your signature means.").max(200, "At most 200 characters."),
  note: z.string().trim().max(2000, "At most 2000 characters.").default(""),
});
type Picked = { studyInstanceUid: string; targetStudyInstanceUid: string; instances: number };

// Retrieving a study from the target takes longer than the engine's other answers.
const engine = () => engineClientFromEnv(180_000);

/** The migrated studies ordered by SHA-256(seed, study UID): the same seed picks the same studies from the report. */
export function pickStudies(report: VerificationReport, count: number, seed: string): Picked[] {
  const rank = (uid: string) => createHash("sha256").update(`${seed}\0${uid}`).digest("hex");
  return report.studies
    .map((s) => ({ studyInstanceUid: s.record.studyInstanceUid, targetStudyInstanceUid: s.record.targetStudyInstanceUid, instances: s.record.instanceCount, r: rank(s.record.studyInstanceUid) }))
    .sort((a, b) => (a.r < b.r ? -1 : 1))
    .slice(0, count)
    .map(({ r: _, ...p }) => p);
}

export async function createSpotCheckList(ctx: TenantContext, id: string, input: unknown) {
  if (!can(ctx.roles, "migrations.approve")) throw new ForbiddenError("Picking a spot-check list needs the migration approver's permission.");
  const migrationId = MigrationId.parse(id);
  const d = ListInput.parse(input);
  const json = await engine().migrationVerification(ctx.tenantSlug, migrationId, "json");
  if (json === null) throw new NotFoundError("No such migration in this tenant.");
  const report = VerificationReport.parse(JSON.parse(json));
  if (!report.studies.length) throw new InputError("No study of this migration is migrated yet: there is nothing to spot-check.");
  const seed = d.seed ?? randomBytes(8).toString("hex");
  const studies = pickStudies(report, d.count, seed);
  return withTenant(ctx, async (tx) => {
    const [list] = await tx.insert(migrationSpotCheckLists).values({ tenantId: ctx.tenantId, migrationId, seed, studies, createdBy: ctx.actor.name }).returning();
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "migrations.spot-check-list",
      target: `migration:${migrationId}`,
      after: { listId: list!.id, seed, requested: d.count, picked: studies.map((s) => s.studyInstanceUid), reportSha256: report.reportSha256 },
    });
    return list!;
  });
}

/** The latest list with each study's signatures; null when none was picked yet. */
export async function latestSpotCheckList(ctx: TenantContext, id: string) {
  const migrationId = MigrationId.parse(id);
  return withTenant(ctx, async (tx) => {
    const [list] = await tx.select().from(migrationSpotCheckLists).where(eq(migrationSpotCheckLists.migrationId, migrationId)).orderBy(desc(migrationSpotCheckLists.createdAt)).limit(1);
    if (!list) return null;
    const checks = await tx.select().from(migrationSpotChecks).where(eq(migrationSpotChecks.listId, list.id));
    return { ...list, studies: (list.studies as Picked[]).map((s) => ({ ...s, check: checks.find((c) => c.studyInstanceUid === s.studyInstanceUid) ?? null })) };
  });
}

/** A study on the latest list, with its instances as the target holds them now; null when it is not on the list. */
export async function spotCheckStudy(ctx: TenantContext, id: string, studyUid: string) {
  const list = await latestSpotCheckList(ctx, id);
  const uid = Uid.safeParse(studyUid);
  const study = uid.success ? list?.studies.find((s) => s.studyInstanceUid === uid.data) : undefined;
  if (!list || !study) return null;
  const atTarget = await engine().targetStudy(ctx.tenantSlug, MigrationId.parse(id), study.studyInstanceUid);
  return { list, study, instances: atTarget?.instances ?? [] };
}

/** One instance's bytes, for the viewer: only of a study on the tenant's latest list. */
export async function spotCheckInstanceBytes(ctx: TenantContext, id: string, studyUid: string, sopUid: string) {
  const list = await latestSpotCheckList(ctx, id);
  if (!list?.studies.some((s) => s.studyInstanceUid === studyUid) || !Uid.safeParse(sopUid).success) return null;
  return engine().targetInstanceBytes(ctx.tenantSlug, MigrationId.parse(id), studyUid, sopUid);
}

/** A clinical reviewer signs that they looked at a spot-checked study (fresh sign-in; never under a grant). */
export async function signSpotCheck(ctx: TenantContext, user: SignedInUser, id: string, studyUid: string, input: unknown) {
  if (ctx.grant || !can(ctx.roles, "quarantine.decide")) throw new ForbiddenError("Clinical reviewers sign a spot-check.");
  const d = SpotCheckInput.parse(input);
  requireFreshAuth(user);
  const found = await spotCheckStudy(ctx, id, studyUid);
  if (!found) throw new NotFoundError("That study is not on this migration's spot-check list.");
  if (found.study.check) throw new InputError(`${found.study.check.signerName} already signed this study as looked at.`);
  // What the reviewer could have seen is what the target serves now: a study it no longer holds cannot be signed.
  if (!found.instances.length) throw new InputError("The target holds no instance of this study now: report it instead of signing.");
  const signedAt = new Date();
  const authTime = new Date(user.authTime * 1000);
  const values = [ctx.tenantId, found.list.id, found.study.studyInstanceUid, found.instances.length, d.meaning, d.note, user.id, user.name, signedAt.toISOString(), authTime.toISOString()];
  return withTenant(ctx, async (tx) => {
    const [row] = await tx
      .insert(migrationSpotChecks)
      .values({ tenantId: ctx.tenantId, listId: found.list.id, studyInstanceUid: found.study.studyInstanceUid, instancesSeen: found.instances.length, meaning: d.meaning, note: d.note, signerUserId: user.id, signerName: user.name, signedAt, authTime, binding: bindRecord("migration-spot-check/v1", values) })
      .returning();
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "migrations.spot-check",
      target: `migration:${MigrationId.parse(id)}`,
      after: { listId: found.list.id, studyInstanceUid: found.study.studyInstanceUid, instancesSeen: found.instances.length, expectedInstances: found.study.instances, meaning: d.meaning, note: d.note, signer: user.name, signedAt: signedAt.toISOString() },
    });
    return row!;
  });
}
