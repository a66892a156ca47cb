"use server";

import { z } from "zod";
import { rolesFor } from "../auth/permissions";
import { requireEngineer, requestId, requireTenantRole } from "../auth/session";
import type { Actor } from "../context";
import { withSystem, withTenant } from "../db";
import { appendAudit } from "./append";
import { checkpointGlobalChain, checkpointTenantChain } from "./checkpoints";
import { verifyChain } from "./export";
import { globalChain, tenantChain } from "./queries";
import type { Report } from "./verifier";

const Slug = z.string().trim().min(1).max(100);

export type VerifyResult = Pick<Report, "ok" | "entries" | "checkpoints" | "lastSeq" | "firstProblem"> & { verifiedAt: string };
export type CheckpointResult = { ok: true; seq: number | null } | { ok: false; message: string };

const summary = (r: Report): VerifyResult => ({
  ok: r.ok,
  entries: r.entries,
  checkpoints: r.checkpoints,
  lastSeq: r.lastSeq,
  firstProblem: r.firstProblem,
  verifiedAt: new Date().toISOString(),
});

/** Verify, on the audit screen: runs the verifier over the whole chain; who ran it and the outcome are audited. */
export async function verifyTenantAuditAction(slug: string): Promise<VerifyResult> {
  const ctx = await requireTenantRole(Slug.parse(slug), ...rolesFor("audit.view"));
  const result = summary(await verifyChain(tenantChain(ctx)));
  await withTenant(ctx, (tx) =>
    appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "audit.verify", target: `tenant:${ctx.tenantSlug}`, after: result }),
  );
  return result;
}

export async function checkpointTenantAuditAction(slug: string): Promise<CheckpointResult> {
  const ctx = await requireTenantRole(Slug.parse(slug), ...rolesFor("audit.checkpoint"));
  const cp = await checkpointTenantChain(ctx);
  return { ok: true, seq: cp?.seq ?? null };
}

async function engineerActor(): Promise<Actor> {
  const user = await requireEngineer();
  return { userId: user.id, name: user.name, email: user.email, roles: ["engineer"] };
}

export async function verifyGlobalAuditAction(): Promise<VerifyResult> {
  const actor = await engineerActor();
  const result = summary(await verifyChain(globalChain));
  await withSystem((tx) => appendAudit(tx, { tenantId: null, actor }, { action: "audit.verify", target: "chain:global", after: result }));
  return result;
}

export async function checkpointGlobalAuditAction(): Promise<CheckpointResult> {
  const actor = await engineerActor();
  const cp = await checkpointGlobalChain(actor, await requestId());
  return { ok: true, seq: cp?.seq ?? null };
}
