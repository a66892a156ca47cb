import "server-only";
// A migration plan is a controlled document: the engine numbers and hashes its versions, and runs one only after a
// person approves it here with an e-signature (fresh sign-in, printed name, meaning). The signature row, its audit
// entry and the engine's approval happen in one transaction; the tenant's policy may ask for a second person.
import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { migrationApprovalPolicies, migrationPlanSignatures } from "@/db/schema";
import type { PlanVersion } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import { can } from "../auth/permissions";
import type { SignedInUser } from "../auth/session";
import { bindRecord, verifyRecord } from "../auth/signature-binding";
import { requireFreshAuth } from "../auth/step-up";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { ForbiddenError, InputError, NotFoundError } from "../errors";

const MigrationId = z.uuid("not a migration id");
export const APPROVAL_MEANING = "I approve this plan version for execution";

export const ApprovalInput = z.object({
  version: z.coerce.number({ error: "Choose a plan version." }).int().min(1),
  planSha256: z.string().regex(/^[0-9a-f]{64}$/, "The form lost the plan's hash; reload the page."),
  meaning: z.string().trim().min(3, "State what your signature means.").max(200, "At most 200 characters."),
});

const PURPOSE = "migration-plan-approval/v1";
type Bound = { tenantId: string; migrationId: string; version: number; planSha256: string; meaning: string; signerUserId: string; signerName: string; signedAt: string; authTime: string };
const boundValues = (b: Bound) => [b.tenantId, b.migrationId, b.version, b.planSha256, b.meaning, b.signerUserId, b.signerName, b.signedAt, b.authTime];

export async function approvalPolicy(ctx: TenantContext) {
  const [p] = await withTenant(ctx, (tx) => tx.select().from(migrationApprovalPolicies));
  return { requireSecondPerson: p?.requireSecondPerson ?? true };
}

export async function setApprovalPolicy(ctx: TenantContext, requireSecondPerson: boolean) {
  if (ctx.grant || !can(ctx.roles, "migrations.policy")) throw new ForbiddenError();
  return withTenant(ctx, async (tx) => {
    const [before] = await tx.select().from(migrationApprovalPolicies);
    await tx.insert(migrationApprovalPolicies).values({ tenantId: ctx.tenantId, requireSecondPerson }).onConflictDoUpdate({ target: migrationApprovalPolicies.tenantId, set: { requireSecondPerson } });
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "migrations.approval-policy",
      target: `tenant:${ctx.tenantSlug}`,
      before: { requireSecondPerson: before?.requireSecondPerson ?? true },
      after: { requireSecondPerson },
    });
  });
}

export type SignedVersion = PlanVersion & {
  signature: { id: string; signerName: string; signerEmail: string; meaning: string; signedAt: string; authTime: string; verified: boolean } | null;
};

/** Every version (newest first) with the console's signature record, each checked against its binding. */
export async function planVersions(ctx: TenantContext, id: string) {
  const migrationId = MigrationId.parse(id);
  const list = await engineClientFromEnv().migrationVersions(ctx.tenantSlug, migrationId);
  if (!list) throw new NotFoundError("No such migration in this tenant.");
  const rows = await withTenant(ctx, (tx) => tx.select().from(migrationPlanSignatures).where(eq(migrationPlanSignatures.migrationId, migrationId)).orderBy(asc(migrationPlanSignatures.signedAt)));
  const versions: SignedVersion[] = list.versions.map((v) => {
    const r = rows.find((s) => s.version === v.version && s.id === v.approval?.signatureId);
    const bound = r && { tenantId: ctx.tenantId, migrationId, version: r.version, planSha256: r.planSha256, meaning: r.meaning, signerUserId: r.signerUserId, signerName: r.signerName, signedAt: r.signedAt.toISOString(), authTime: r.authTime.toISOString() };
    return {
      ...v,
      signature: r
        ? { id: r.id, signerName: r.signerName, signerEmail: r.signerEmail, meaning: r.meaning, signedAt: bound!.signedAt, authTime: bound!.authTime, verified: r.planSha256 === v.planSha256 && verifyRecord(PURPOSE, boundValues(bound!), r.binding) }
        : null,
    };
  });
  return { versions, versionInForce: list.versionInForce, policy: await approvalPolicy(ctx) };
}

/**
 * Approves one version: the person must hold `migrations.approve`, have signed in within the step-up window, approve
 * the exact plan they read (its hash), and, under the tenant's policy, not be the version's author.
 */
export async function approveVersion(ctx: TenantContext, user: SignedInUser, id: string, input: unknown) {
  if (!can(ctx.roles, "migrations.approve")) throw new ForbiddenError("Approving a migration plan needs the migration approver's permission.");
  const migrationId = MigrationId.parse(id);
  const d = ApprovalInput.parse(input);
  requireFreshAuth(user);
  const engine = engineClientFromEnv();
  const list = await engine.migrationVersions(ctx.tenantSlug, migrationId);
  if (!list) throw new NotFoundError("No such migration in this tenant.");
  const v = list.versions.find((x) => x.version === d.version);
  if (!v) throw new InputError(`This migration has no plan version ${d.version}.`);
  if (v.planSha256 !== d.planSha256) throw new InputError(`Version ${d.version} is not the plan you read (its hash differs); reload the page and read it again.`);
  if (v.state !== "pending") throw new InputError(v.state === "superseded" ? `Version ${d.version} is superseded by a later version: approve the latest one.` : `Version ${d.version} is already approved.`);
  const { requireSecondPerson } = await approvalPolicy(ctx);
  if (requireSecondPerson && v.author?.userId === user.id) throw new ForbiddenError(`You wrote version ${d.version}: this tenant's policy asks a second person to approve it.`);
  const signedAt = new Date();
  const authTime = new Date(user.authTime * 1000);
  return withTenant(ctx, async (tx) => {
    const bound: Bound = { tenantId: ctx.tenantId, migrationId, version: v.version, planSha256: v.planSha256, meaning: d.meaning, signerUserId: user.id, signerName: user.name, signedAt: signedAt.toISOString(), authTime: authTime.toISOString() };
    const [sig] = await tx
      .insert(migrationPlanSignatures)
      .values({ ...bound, signerEmail: user.email, signedAt, authTime, binding: bindRecord(PURPOSE, boundValues(bound)) })
      .returning();
    const signature = { id: sig!.id, signerName: user.name, signerEmail: user.email, meaning: d.meaning, signedAt: bound.signedAt, authTime: bound.authTime };
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "migrations.approve",
      target: `migration:${migrationId}`,
      before: { versionInForce: list.versionInForce },
      after: { version: v.version, planSha256: v.planSha256, author: v.author, requireSecondPerson, signature },
    });
    // Last in the transaction: if the engine refuses (a version saved meanwhile, its own two-person check), the
    // signature and its audit entry are not recorded either.
    await engine.approveMigrationVersion(ctx.tenantSlug, migrationId, v.version, {
      signer: { userId: user.id, name: user.name, meaning: d.meaning, signatureId: sig!.id, signedAt: bound.signedAt },
      requireDifferentPerson: requireSecondPerson,
    });
    return { version: v.version, signature };
  });
}

