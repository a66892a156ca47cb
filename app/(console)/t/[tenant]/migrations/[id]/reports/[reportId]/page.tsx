import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { reportHtml, type ReportContent } from "@/lib/migrations/report";
import { rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { NotFoundError } from "@/server/errors";
import { getReport } from "@/server/migrations/reports";

export const metadata: Metadata = { title: "Migration report" };

/** The kept report, rendered from its stored content by the same function as its PDF. */
export default async function ReportPage({ params }: { params: Promise<{ tenant: string; id: string; reportId: string }> }) {
  const { tenant, id, reportId } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("migrations.view"));
  const r = await getReport(ctx, id, reportId).catch((e) => (e instanceof NotFoundError || e?.name === "ZodError" ? null : Promise.reject(e)));
  if (!r) notFound();
  return (
    <div className="space-y-3">
      <div className="flex gap-4 text-sm">
        <Link href={`/t/${ctx.tenantSlug}/migrations/${id}`} className="text-sky-700 underline">← Dashboard</Link>
        <a href={`/api/t/${ctx.tenantSlug}/migrations/${id}/reports/${r.id}/pdf`} className="text-sky-700 underline" data-testid="report-pdf">Download PDF</a>
      </div>
      <div className="rounded-lg border border-slate-200 bg-white p-2 text-slate-900" data-testid="report" dangerouslySetInnerHTML={{ __html: reportHtml(r.content as ReportContent).body }} />
    </div>
  );
}
