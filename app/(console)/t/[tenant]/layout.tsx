import type { ReactNode } from "react";
import { GrantBanner, VendorAccessNotice } from "@/components/break-glass/grant-banner";
import { SuspensionBanner } from "@/components/tenancy/suspension-banner";
import { endGrantAction } from "@/server/break-glass/actions";
import { activeGrantsOn } from "@/server/break-glass/service";
import { can } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { getTenantSuspension } from "@/server/tenancy/service";

/**
 * Every page under /t/[tenant] needs a membership in that tenant or an engineer's active break-glass grant;
 * anything else is a 404. Engineers see their grant's banner; the tenant's people see that a vendor is in, and
 * everyone that the tenant is suspended.
 * There is deliberately no loading.tsx below here: each page checks its own permission before anything streams,
 * so a refusal is a real HTTP 404 rather than a not-found page sent with status 200.
 */
export default async function TenantLayout({ children, params }: { children: ReactNode; params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant);
  const [vendors, suspension] = await Promise.all([ctx.grant ? [] : activeGrantsOn(ctx), getTenantSuspension(ctx)]);
  return (
    <>
      {suspension && <SuspensionBanner since={suspension.since} reason={suspension.reason} />}
      {ctx.grant && <GrantBanner tenantName={ctx.tenantName} scope={ctx.grant.scope} endsAt={ctx.grant.endsAt} end={endGrantAction.bind(null, ctx.grant.id)} />}
      {vendors.length > 0 && <VendorAccessNotice grants={vendors} slug={ctx.tenantSlug} canManage={can(ctx.roles, "break-glass.manage")} />}
      {children}
    </>
  );
}
