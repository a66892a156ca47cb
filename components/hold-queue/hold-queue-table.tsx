"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { HoldQueueRow } from "@/server/hold-queue/service";
import { formatBytes, formatIn, formatTime } from "../ui/format";

type Page = { results: HoldQueueRow[]; nextCursor: string | null };

const STATUS_STYLE: Record<string, string> = {
  held: "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-100",
  notified: "bg-sky-100 text-sky-900 dark:bg-sky-950 dark:text-sky-100",
  pulled: "bg-indigo-100 text-indigo-900 dark:bg-indigo-950 dark:text-indigo-100",
  acked: "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-100",
  expired: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-100",
  purged: "bg-red-100 text-red-900 dark:bg-red-950 dark:text-red-100",
};

/**
 * The hold queue's rows. The first page polls its API route every 2 s, so new results and status changes show
 * without a reload; deeper pages (a cursor in the URL) are a fixed slice and do not poll.
 */
export function HoldQueueTable({ slug, query, initial, live }: { slug: string; query: string; initial: Page; live: boolean }) {
  const { data, isError } = useQuery({
    queryKey: ["hold-queue", slug, query],
    queryFn: async (): Promise<Page> => {
      const res = await fetch(`/api/t/${slug}/hold-queue${query ? `?${query}` : ""}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return res.json();
    },
    initialData: initial,
    refetchInterval: live ? 2000 : false,
  });
  const page = data ?? initial;
  const next = new URLSearchParams(query);
  if (page.nextCursor) next.set("cursor", page.nextCursor);
  return (
    <div className="space-y-3">
      {isError && <p className="text-sm text-amber-700" role="status">Live updates paused: the queue could not be refreshed.</p>}
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm" data-testid="hold-queue">
          <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
            <tr>
              <th className="py-2">Received</th><th>Vendor</th><th>Called AE</th><th>SOP class</th><th>Modality</th>
              <th>Study / SOP instance UID</th><th>Size</th><th>Status</th><th>Expires</th>
            </tr>
          </thead>
          <tbody>
            {page.results.map((r) => (
              <tr key={r.id} className="border-b border-slate-100 align-top dark:border-slate-900" data-testid="hold-queue-row" data-sop-instance-uid={r.sopInstanceUid}>
                <td className="whitespace-nowrap py-1.5"><Link className="underline" href={`/t/${slug}/hold-queue/${r.id}`}>{formatTime(r.receivedAt)}</Link></td>
                <td className="font-mono text-xs">{r.callingAe}</td>
                <td className="font-mono text-xs">{r.calledAe}</td>
                <td title={r.sopClassUid}>{r.sopClassName ?? r.sopClassUid}</td>
                <td>{r.modality ?? "—"}</td>
                <td className="max-w-xs font-mono text-xs"><div className="truncate" title={r.studyInstanceUid ?? ""}>{r.studyInstanceUid ?? "—"}</div><div className="truncate text-slate-500" title={r.sopInstanceUid}>{r.sopInstanceUid}</div></td>
                <td className="whitespace-nowrap">{formatBytes(r.sizeBytes)}</td>
                <td>
                  <span data-testid="status" className={`rounded px-1.5 py-0.5 text-xs ${STATUS_STYLE[r.status] ?? ""}`}>{r.status}</span>
                  {r.deliveryFailing && (
                    <div data-testid="delivery-failing" className="mt-1 max-w-[14rem] truncate text-xs text-amber-800 dark:text-amber-300" title={`Since ${formatTime(r.deliveryFailing.since)}, ${r.deliveryFailing.attempts} attempts: ${r.deliveryFailing.reason}`}>
                      Delivery failing: {r.deliveryFailing.reason}
                    </div>
                  )}
                </td>
                <td className="whitespace-nowrap">{["held", "notified", "pulled"].includes(r.status) ? formatIn(r.expiresAt) : "—"}</td>
              </tr>
            ))}
            {page.results.length === 0 && <tr><td colSpan={9} className="py-4 text-slate-500">No results match.</td></tr>}
          </tbody>
        </table>
      </div>
      <nav className="flex gap-4 text-sm" aria-label="Pages">
        {!live && <Link className="underline" href={`/t/${slug}/hold-queue?${new URLSearchParams([...new URLSearchParams(query)].filter(([k]) => k !== "cursor"))}`}>Newest</Link>}
        {page.nextCursor && <Link className="underline" data-testid="older" href={`/t/${slug}/hold-queue?${next}`}>Older →</Link>}
      </nav>
    </div>
  );
}
