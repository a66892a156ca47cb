import "server-only";
// The tenant's SCIM bearer tokens: a tenant admin creates one (shown once, only its SHA-256 kept) with a name and the
// role a provisioned person gets when the identity provider sends no group, and revokes it. Both audited.
import { createHash, randomBytes } from "node:crypto";
import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { scimTokens } from "@/db/schema";
import { appendAudit } from "../audit/append";
import { TENANT_ROLES } from "../auth/permissions";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { InputError, NotFoundError, pgCode } from "../errors";
import { mayManage } from "../tenancy/members";

export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** scim_<tenant id, 32 hex>_<secret>: the tenant is read from the token, so it is looked up under that tenant's RLS. */
export function tenantOfToken(token: string): string | null {
  const m = /^scim_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$/.exec(token);
  if (!m) return null;
  const h = m[1]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const CreateTokenInput = z.object({
  name: z.string().trim().min(1, "Name the token (e.g. the identity provider it is for).").max(80),
  defaultRole: z.union([z.literal("").transform(() => null), z.enum(TENANT_ROLES)]).optional().transform((r) => r ?? null),
});

export async function listScimTokens(ctx: TenantContext) {
  mayManage(ctx);
  return withTenant(ctx, (tx) =>
    tx
      .select({ id: scimTokens.id, name: scimTokens.name, defaultRole: scimTokens.defaultRole, createdAt: scimTokens.createdAt, createdBy: scimTokens.createdBy, lastUsedAt: scimTokens.lastUsedAt, revokedAt: scimTokens.revokedAt })
      .from(scimTokens)
      .where(eq(scimTokens.tenantId, ctx.tenantId))
      .orderBy(asc(scimTokens.createdAt)),
  );
}

export async function createScimToken(ctx: TenantContext, input: unknown) {
  mayManage(ctx);
  const d = CreateTokenInput.parse(input);
  const token = `scim_${ctx.tenantId.replaceAll("-", "")}_${randomBytes(32).toString("base64url")}`;
  try {
    return await withTenant(ctx, async (tx) => {
      const [row] = await tx.insert(scimTokens).values({ tenantId: ctx.tenantId, name: d.name, tokenHash: sha256(token), defaultRole: d.defaultRole, createdBy: ctx.actor.name }).returning();
      await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "scim.token.create", target: `scim-token:${d.name}`, after: { name: d.name, defaultRole: d.defaultRole } });
      return { token, id: row!.id, name: d.name };
    });
  } catch (e) {
    if (pgCode(e).code === "23505") throw new InputError(`A SCIM token named ${d.name} exists already.`, { name: ["already in use"] });
    throw e;
  }
}

export async function revokeScimToken(ctx: TenantContext, id: string) {
  mayManage(ctx);
  if (!z.uuid().safeParse(id).success) throw new NotFoundError("No such SCIM token in this tenant.");
  return withTenant(ctx, async (tx) => {
    const [row] = await tx.update(scimTokens).set({ revokedAt: new Date() }).where(and(eq(scimTokens.id, id), eq(scimTokens.tenantId, ctx.tenantId), isNull(scimTokens.revokedAt))).returning();
    if (!row) throw new NotFoundError("No such SCIM token in this tenant, or it is revoked already.");
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "scim.token.revoke", target: `scim-token:${row.name}`, before: { name: row.name }, after: { revokedAt: row.revokedAt!.toISOString() } });
    return row;
  });
}
