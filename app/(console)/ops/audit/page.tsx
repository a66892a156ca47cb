import type { Metadata } from "next";
import { AuditLog } from "@/components/audit/audit-log";
import { checkpointGlobalAuditAction, verifyGlobalAuditAction } from "@/server/audit/actions";
import { signingStatus } from "@/server/audit/checkpoints";
import { globalChain, listAuditEntries, parseAuditSearch, readChain } from "@/server/audit/queries";
import { requireEngineer } from "@/server/auth/session";

export const metadata: Metadata = { title: "Global audit log" };

/** Engineers: the global chain (sign-ins, tenant creation, operator actions). Tenant chains need break-glass. */
export default async function GlobalAuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireEngineer();
  const { filter, raw, errors, before } = parseAuditSearch(await searchParams);
  const [page, signing] = await Promise.all([listAuditEntries(globalChain, filter, before), readChain(globalChain, (tx) => signingStatus(tx, "global"))]);
  return (
    <AuditLog
      title="Global audit log"
      basePath="/ops/audit"
      exportPath="/api/ops/audit/export"
      filter={raw}
      errors={errors}
      entries={page.entries}
      nextBefore={page.nextBefore}
      signing={signing}
      verify={verifyGlobalAuditAction}
      checkpoint={checkpointGlobalAuditAction}
    />
  );
}
