import "server-only";
import { and, eq } from "drizzle-orm";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { memberships, tenants } from "@/db/schema";
import type { TenantContext } from "../context";
import { withUser } from "../db";
import { auth } from "./index";
import { grantContext, recordGrantAccess } from "../break-glass/service";
import type { AccessRole } from "./permissions";

export type SignedInUser = { id: string; name: string; email: string; isEngineer: boolean; authTime: number };

/** The signed-in person, or a redirect to sign-in (an expired, stale or tampered session has no user). */
export const requireSession = cache(async (): Promise<SignedInUser> => {
  const session = await auth();
  if (!session?.user?.id) redirect("/sign-in");
  return session.user;
});

export async function requestId() {
  return (await headers()).get("x-request-id") ?? crypto.randomUUID();
}

/**
 * The tenant context of `user` in tenant `slug`: from a membership with one of `allowed` roles (any role when
 * none are given), or, for an engineer, from an active break-glass grant whose scope allows it; null otherwise.
 * Every request served under a grant is recorded in the tenant's and the global audit chain (`access` names it).
 */
export async function findTenantContext(user: SignedInUser, slug: string, allowed: AccessRole[] = [], access?: string): Promise<TenantContext | null> {
  const rows = await withUser({ userId: user.id, email: user.email }, (tx) =>
    tx
      .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, role: memberships.role })
      .from(tenants)
      .innerJoin(memberships, eq(memberships.tenantId, tenants.id))
      .where(and(eq(tenants.slug, slug), eq(memberships.userId, user.id))),
  );
  const first = rows[0];
  if (first) {
    const roles = rows.map((r) => r.role);
    if (allowed.length > 0 && !roles.some((r) => allowed.includes(r))) return null;
    return {
      tenantId: first.id,
      tenantSlug: first.slug,
      tenantName: first.name,
      roles,
      actor: { userId: user.id, name: user.name, email: user.email, roles },
      requestId: await requestId(),
    };
  }
  if (!user.isEngineer) return null;
  const granted = await grantContext(user, slug);
  if (!granted || (allowed.length > 0 && !allowed.includes(granted.role))) return null;
  const ctx: TenantContext = {
    tenantId: granted.tenant.id,
    tenantSlug: granted.tenant.slug,
    tenantName: granted.tenant.name,
    roles: [granted.role],
    actor: granted.actor,
    requestId: await requestId(),
    grant: { id: granted.grant.id, scope: granted.grant.scope, endsAt: granted.grant.endsAt!.toISOString() },
  };
  await recordGrantAccess(ctx, access ?? (await requestedPath()));
  return ctx;
}

/** The path (and server action) of the current request, as the proxy saw it. */
async function requestedPath() {
  const h = await headers();
  const action = h.get("next-action");
  return `${action ? `action ${action} on ` : ""}${h.get("x-pathname") ?? "?"}`;
}

/** Resolves the URL's tenant for the signed-in person, or a 404 so tenant names don't leak. */
export const requireTenantRole = cache(async (slug: string, ...allowed: AccessRole[]): Promise<TenantContext> => {
  const ctx = await findTenantContext(await requireSession(), slug, allowed);
  if (!ctx) notFound();
  return ctx;
});

/** Operations pages are for engineers (the IdP group); anyone else gets a 404. */
export async function requireEngineer(): Promise<SignedInUser> {
  const user = await requireSession();
  if (!user.isEngineer) notFound();
  return user;
}
