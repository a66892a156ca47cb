"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

type Report = { id: string; kind: string; createdAt: string; requestedBy: string };

/** The kept stakeholder reports (weekly and on demand), each as a page and a PDF; "generate now" for writers. */
export function ReportList({ slug, migrationId, reports, generate }: { slug: string; migrationId: string; reports: Report[]; generate?: () => Promise<ActionResult> }) {
  const router = useRouter();
  const [pending, start] = useTransition();
  const [result, setResult] = useState<ActionResult | null>(null);
  return (
    <section className="space-y-2 rounded-lg border border-slate-200 p-4 dark:border-slate-800" data-testid="reports">
      <h2 className="text-sm font-medium text-slate-600 dark:text-slate-400">Stakeholder reports (weekly, Mondays 06:00 UTC, and on demand)</h2>
      {generate && (
        <div className="flex items-center gap-2">
          <button
            type="button"
            disabled={pending}
            onClick={() => start(async () => {
              const r = await generate();
              setResult(r);
              router.refresh();
            })}
            className="rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50"
          >
            {pending ? "Generating…" : "Generate report now"}
          </button>
          {result && <span role={result.ok ? "status" : "alert"} className={result.ok ? "text-sm text-slate-600" : "text-sm text-red-700"}>{result.message}</span>}
        </div>
      )}
      <ul className="space-y-1 text-sm">
        {reports.map((r) => (
          <li key={r.id} data-testid="report-row">
            {r.createdAt.slice(0, 16).replace("T", " ")} UTC · {r.kind === "scheduled" ? "weekly" : `on demand by ${r.requestedBy}`} ·{" "}
            <Link className="text-sky-700 underline" href={`/t/${slug}/migrations/${migrationId}/reports/${r.id}`}>page</Link> ·{" "}
            <a className="text-sky-700 underline" href={`/api/t/${slug}/migrations/${migrationId}/reports/${r.id}/pdf`}>PDF</a>
          </li>
        ))}
        {reports.length === 0 && <li className="text-slate-500">No report yet.</li>}
      </ul>
    </section>
  );
}
