import type { Metadata } from "next";
import { AuditLog } from "@/components/audit/audit-log";
import { checkpointTenantAuditAction, verifyTenantAuditAction } from "@/server/audit/actions";
import { signingStatus } from "@/server/audit/checkpoints";
import { listAuditEntries, parseAuditSearch, readChain, tenantChain } from "@/server/audit/queries";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";

export const metadata: Metadata = { title: "Audit log" };

type Props = { params: Promise<{ tenant: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function TenantAuditPage({ params, searchParams }: Props) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("audit.view"));
  const { filter, raw, errors, before } = parseAuditSearch(await searchParams);
  const scope = tenantChain(ctx);
  const [page, signing] = await Promise.all([listAuditEntries(scope, filter, before), readChain(scope, (tx) => signingStatus(tx, scope.chain))]);
  return (
    <AuditLog
      title="Audit log"
      basePath={`/t/${ctx.tenantSlug}/audit`}
      exportPath={`/api/t/${ctx.tenantSlug}/audit/export`}
      filter={raw}
      errors={errors}
      entries={page.entries}
      nextBefore={page.nextBefore}
      signing={signing}
      verify={verifyTenantAuditAction.bind(null, ctx.tenantSlug)}
      checkpoint={can(ctx.roles, "audit.checkpoint") ? checkpointTenantAuditAction.bind(null, ctx.tenantSlug) : undefined}
    />
  );
}
