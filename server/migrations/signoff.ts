import "server-only";
// Closeout: the signed-off migration record. Signing runs the reconciliation again (source and target inventoried
// afresh) and refuses unless it balances; the record (final plan version and its approval, that reconciliation, the
// verification report's hash) is frozen with its SHA-256 and the signer's e-signature, audited in one transaction.
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { migrationSignoffs } from "@/db/schema";
import { VerificationReport } from "@/engine/api/contract";
import { canonicalJson } from "@/engine/migration/study-record";
import type { SignoffRecord } from "@/lib/migrations/signoff-record";
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
export const SIGNOFF_MEANING = "I sign off this migration as complete and reconciled";
export const SignoffInput = z.object({ meaning: z.string().trim().min(3, "State what your signature means.").max(200, "At most 200 characters.") });

const PURPOSE = "migration-signoff/v1";
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
type Row = typeof migrationSignoffs.$inferSelect;
const boundValues = (r: Pick<Row, "tenantId" | "migrationId" | "recordSha256" | "meaning" | "signerUserId" | "signerName">, signedAt: string, authTime: string) => [r.tenantId, r.migrationId, r.recordSha256, r.meaning, r.signerUserId, r.signerName, signedAt, authTime];

/** The record as it stands now, with a fresh reconciliation; refuses what cannot be signed off, saying why. */
async function currentRecord(ctx: TenantContext, migrationId: string): Promise<SignoffRecord> {
  const engine = engineClientFromEnv();
  const m = await engine.getMigration(ctx.tenantSlug, migrationId);
  if (!m) throw new NotFoundError("No such migration in this tenant.");
  if (m.status !== "completed") throw new InputError(`The migration is ${m.status}: it is signed off once it has completed.`);
  const versions = (await engine.migrationVersions(ctx.tenantSlug, migrationId))!;
  const inForce = versions.versions.find((v) => v.version === versions.versionInForce);
  if (!inForce) throw new InputError("No plan version is in force: there is nothing approved to sign off.");
  const reconciliation = (await engine.reconcileMigration(ctx.tenantSlug, migrationId))!;
  if (!reconciliation.balanced)
    throw new InputError(`The reconciliation does not balance (${reconciliation.differences.length} difference${reconciliation.differences.length === 1 ? "" : "s"}): ${reconciliation.differences.slice(0, 3).map((d) => d.message).join("; ")}. Resolve them before signing off.`);
  const report = VerificationReport.parse(JSON.parse((await engine.migrationVerification(ctx.tenantSlug, migrationId, "json"))!));
  // The report's hash leaves out only when it was generated, so an auditor's later download hashes the same.
  const { generatedAt: _, ...stable } = report;
  return {
    format: "imgops-migration-signoff/1",
    migrationId,
    tenantSlug: ctx.tenantSlug,
    name: m.plan.name,
    counts: { discovered: m.counts.discovered, migrated: m.counts.migrated, quarantined: m.counts.quarantined, skipped: m.counts.skipped },
    plan: {
      version: inForce.version,
      planSha256: inForce.planSha256,
      author: inForce.author?.name ?? null,
      approvedBy: inForce.approval?.name ?? null,
      approvedAt: inForce.approval?.signedAt ?? null,
      approvalMeaning: inForce.approval?.meaning ?? null,
      signatureId: inForce.approval?.signatureId ?? null,
    },
    reconciliation,
    verification: { reportSha256: sha256(canonicalJson(stable)), studies: report.studies.length, instances: report.instances.length },
  };
}

/** The kept sign-off, its signature checked against its binding and its record against its hash; null when none. */
export async function signedRecord(ctx: TenantContext, id: string) {
  const migrationId = MigrationId.parse(id);
  const [r] = await withTenant(ctx, (tx) => tx.select().from(migrationSignoffs).where(eq(migrationSignoffs.migrationId, migrationId)));
  if (!r) return null;
  const signedAt = r.signedAt.toISOString();
  const authTime = r.authTime.toISOString();
  const verified = sha256(canonicalJson(r.record)) === r.recordSha256 && verifyRecord(PURPOSE, boundValues(r, signedAt, authTime), r.binding);
  return { record: r.record as SignoffRecord, signature: { signerName: r.signerName, signerEmail: r.signerEmail, meaning: r.meaning, signedAt, authTime, recordSha256: r.recordSha256 }, verified };
}

export async function signOff(ctx: TenantContext, user: SignedInUser, id: string, input: unknown) {
  if (!can(ctx.roles, "migrations.approve")) throw new ForbiddenError("Signing off a migration needs the migration approver's permission.");
  const migrationId = MigrationId.parse(id);
  const d = SignoffInput.parse(input);
  requireFreshAuth(user);
  if (await signedRecord(ctx, migrationId)) throw new InputError("This migration is already signed off.");
  const record = await currentRecord(ctx, migrationId);
  const signedAt = new Date();
  const authTime = new Date(user.authTime * 1000);
  return withTenant(ctx, async (tx) => {
    const row = { tenantId: ctx.tenantId, migrationId, record, recordSha256: sha256(canonicalJson(record)), meaning: d.meaning, signerUserId: user.id, signerName: user.name, signerEmail: user.email, signedAt, authTime };
    await tx.insert(migrationSignoffs).values({ ...row, binding: bindRecord(PURPOSE, boundValues(row, signedAt.toISOString(), authTime.toISOString())) });
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "migrations.signoff",
      target: `migration:${migrationId}`,
      after: { recordSha256: row.recordSha256, planVersion: record.plan.version, planSha256: record.plan.planSha256, verificationSha256: record.verification.reportSha256, reconciledAt: record.reconciliation.reconciledAt, meaning: d.meaning, signer: user.name, signedAt: signedAt.toISOString() },
    });
    return { recordSha256: row.recordSha256, signedAt: signedAt.toISOString() };
  });
}
