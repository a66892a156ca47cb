import "server-only";
// The closeout's random-sample re-verification, asked for by a person: the engine retrieves a seeded sample from the
// target and hashes it again; the console audits who asked, the seed and the outcome.
import { z } from "zod";
import { appendAudit } from "../audit/append";
import { can } from "../auth/permissions";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { ForbiddenError, NotFoundError } from "../errors";

const MigrationId = z.uuid("not a migration id");
export const SampleInput = z.object({
  sample: z.coerce.number({ error: "The sample size is a number of instances." }).int("A whole number of instances.").min(1, "Check at least one instance.").max(1000, "At most 1000 instances in one sample."),
  seed: z.string().trim().max(64, "At most 64 characters.").transform((s) => s || undefined),
});

export async function lastSample(ctx: Pick<TenantContext, "tenantSlug">, id: string) {
  return engineClientFromEnv().lastSampleVerification(ctx.tenantSlug, MigrationId.parse(id));
}

export async function runSample(ctx: TenantContext, id: string, input: unknown) {
  if (!can(ctx.roles, "migrations.approve")) throw new ForbiddenError("Re-verifying a sample needs the migration approver's permission.");
  const migrationId = MigrationId.parse(id);
  const d = SampleInput.parse(input);
  // Retrieving from the target takes longer than the engine's other answers.
  const r = await engineClientFromEnv(300_000).sampleVerify(ctx.tenantSlug, migrationId, { sample: d.sample, ...(d.seed ? { seed: d.seed } : {}) });
  if (!r) throw new NotFoundError("No such migration in this tenant.");
  await withTenant(ctx, (tx) =>
    appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "migrations.sample-verify",
      target: `migration:${migrationId}`,
      after: { seed: r.seed, requested: r.requested, checked: r.checked, matched: r.matched, mismatched: r.mismatched, missing: r.missing, reportSha256: r.reportSha256 },
    }),
  );
  return r;
}
