import "server-only";
// A tenant admin manages the tenant's members: invite an e-mail with a role (taken up at that person's first sign-in
// with a verified e-mail, within INVITATION_DAYS), change a role, remove one. The tenant never loses its last
// admin, and nobody changes their own roles. Each change is audited in its transaction with old and new role.
import { and, asc, eq, isNotNull, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { memberships } from "@/db/schema";
import { appendAudit } from "../audit/append";
import { can, TENANT_ROLES } from "../auth/permissions";
import type { TenantContext } from "../context";
import { withTenant, type Tx } from "../db";
import { ForbiddenError, InputError, NotFoundError } from "../errors";
import { INVITATION_DAYS } from "./service";

export const InviteInput = z.object({
  email: z.email("Give the person's e-mail address, as their identity provider has it.").transform((e) => e.trim().toLowerCase()),
  role: z.enum(TENANT_ROLES, { error: "Choose a role." }),
});
const MembershipId = z.uuid("not a membership id");

export function mayManage(ctx: TenantContext) {
  // The tenant's own people, never a vendor under a grant.
  if (ctx.grant || !can(ctx.roles, "members.manage")) throw new ForbiddenError("Only the tenant's admins manage its members.");
}
const audit = (tx: Tx, ctx: TenantContext, action: string, target: string, before: unknown, after: unknown) =>
  appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action, target, before, after });

export async function listMembers(ctx: TenantContext) {
  return withTenant(ctx, (tx) =>
    tx
      .select({ id: memberships.id, email: memberships.email, role: memberships.role, linked: sql<boolean>`${memberships.userId} is not null`, createdAt: memberships.createdAt, invitationExpiresAt: memberships.invitationExpiresAt, invitedBy: memberships.invitedBy })
      .from(memberships)
      .where(eq(memberships.tenantId, ctx.tenantId))
      .orderBy(asc(memberships.email), asc(memberships.role)),
  );
}

export async function inviteMember(ctx: TenantContext, input: unknown) {
  mayManage(ctx);
  const d = InviteInput.parse(input);
  if (d.email === ctx.actor.email.toLowerCase()) throw new ForbiddenError("You cannot give yourself a role: another tenant admin does.");
  const expires = new Date(Date.now() + INVITATION_DAYS * 86_400_000);
  return withTenant(ctx, async (tx) => {
    const [row] = await tx.insert(memberships).values({ tenantId: ctx.tenantId, email: d.email, role: d.role, invitationExpiresAt: expires, invitedBy: ctx.actor.name }).onConflictDoNothing().returning();
    if (!row) throw new InputError(`${d.email} already has the role ${d.role} here.`, { email: ["already has this role"] });
    await audit(tx, ctx, "members.invite", `member:${d.email}`, null, { email: d.email, role: d.role, invitationExpiresAt: expires.toISOString() });
    return row;
  });
}

/** The tenant's admin rows, locked in a fixed order, so two changes to admins at once cannot both pass the check below. */
export async function lockAdmins(tx: Tx, tenantId: string) {
  await tx.execute(sql`select id from memberships where tenant_id = ${tenantId} and role = 'tenant_admin' order by id for update`);
}

/** The tenant keeps at least one admin who has signed in: refused when `excluding` is the last one. */
export async function keepsAnAdmin(tx: Tx, ctx: Pick<TenantContext, "tenantId">, excluding: string) {
  const [r] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(memberships)
    .where(and(eq(memberships.tenantId, ctx.tenantId), eq(memberships.role, "tenant_admin"), isNotNull(memberships.userId), ne(memberships.id, excluding)));
  if (!r?.n) throw new InputError("This is the tenant's last admin: invite another admin, and let them sign in, first.");
}

async function openMembership(tx: Tx, ctx: TenantContext, id: string) {
  const [m] = await tx.select().from(memberships).where(and(eq(memberships.id, MembershipId.parse(id)), eq(memberships.tenantId, ctx.tenantId))).for("update");
  if (!m) throw new NotFoundError("No such member in this tenant.");
  if (m.email === ctx.actor.email.toLowerCase() || m.userId === ctx.actor.userId) throw new ForbiddenError("You cannot change your own roles: another tenant admin does.");
  return m;
}

export async function changeRole(ctx: TenantContext, id: string, input: unknown) {
  mayManage(ctx);
  const role = z.enum(TENANT_ROLES, { error: "Choose a role." }).parse(input);
  return withTenant(ctx, async (tx) => {
    // The admins' rows are locked in a fixed order, so two admins demoting each other at once cannot both succeed.
    await lockAdmins(tx, ctx.tenantId);
    const m = await openMembership(tx, ctx, id);
    if (m.role === role) return m;
    if (m.role === "tenant_admin") await keepsAnAdmin(tx, ctx, m.id);
    const [clash] = await tx.select({ id: memberships.id }).from(memberships).where(and(eq(memberships.tenantId, ctx.tenantId), eq(memberships.email, m.email), eq(memberships.role, role)));
    if (clash) throw new InputError(`${m.email} already has the role ${role} here.`);
    const [after] = await tx.update(memberships).set({ role }).where(eq(memberships.id, m.id)).returning();
    await audit(tx, ctx, "members.change-role", `member:${m.email}`, { role: m.role }, { role });
    return after!;
  });
}

export async function removeMember(ctx: TenantContext, id: string) {
  mayManage(ctx);
  return withTenant(ctx, async (tx) => {
    await lockAdmins(tx, ctx.tenantId);
    const m = await openMembership(tx, ctx, id);
    if (m.role === "tenant_admin") await keepsAnAdmin(tx, ctx, m.id);
    await tx.delete(memberships).where(eq(memberships.id, m.id));
    await audit(tx, ctx, "members.remove", `member:${m.email}`, { email: m.email, role: m.role, linked: m.userId !== null }, null);
  });
}
