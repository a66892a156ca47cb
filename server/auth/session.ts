import "server-only";
import { and, eq } from "drizzle-orm";
import { headers } from "next/headers";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { memberships, tenants } from "@/db/schema";
import type { TenantContext } from "../context";
import { withUser } from "../db";
import { auth } from "./index";
import type { TenantRole } from "./permissions";

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
 * The tenant context of `user` in tenant `slug` when they hold a membership there with one of `allowed` roles
 * (any role when none are given); null otherwise. Engineers have no tenant access here; break-glass adds it.
 */
export async function findTenantContext(user: SignedInUser, slug: string, allowed: TenantRole[] = []): Promise<TenantContext | null> {
  const rows = await withUser({ userId: user.id, email: user.email }, (tx) =>
    tx
      .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, role: memberships.role })
      .from(tenants)
      .innerJoin(memberships, eq(memberships.tenantId, tenants.id))
      .where(and(eq(tenants.slug, slug), eq(memberships.userId, user.id))),
  );
  const roles = rows.map((r) => r.role);
  const first = rows[0];
  if (!first || (allowed.length > 0 && !roles.some((r) => allowed.includes(r)))) return null;
  return {
    tenantId: first.id,
    tenantSlug: first.slug,
    tenantName: first.name,
    roles,
    actor: { userId: user.id, name: user.name, email: user.email, roles },
    requestId: await requestId(),
  };
}

/** Resolves the URL's tenant for the signed-in person, or a 404 so tenant names don't leak. */
export const requireTenantRole = cache(async (slug: string, ...allowed: TenantRole[]): Promise<TenantContext> => {
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
