import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { z } from "zod";
import { EntryDetail } from "@/components/audit/entry-detail";
import { getAuditEntry, tenantChain } from "@/server/audit/queries";
import { rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";

export const metadata: Metadata = { title: "Audit entry" };

export default async function TenantAuditEntryPage({ params }: { params: Promise<{ tenant: string; seq: string }> }) {
  const p = await params;
  const ctx = await requireTenantRole(p.tenant, ...rolesFor("audit.view"));
  const seq = z.coerce.number().int().positive().safeParse(p.seq);
  const entry = seq.success ? await getAuditEntry(tenantChain(ctx), seq.data) : null;
  if (!entry) notFound();
  return <EntryDetail entry={entry} backHref={`/t/${ctx.tenantSlug}/audit`} />;
}
