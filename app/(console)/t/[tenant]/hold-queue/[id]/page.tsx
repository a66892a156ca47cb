import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ResultActions } from "@/components/hold-queue/result-actions";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { AutoRefresh } from "@/components/ui/auto-refresh";
import { formatBytes, formatTime } from "@/components/ui/format";
import { purgeResultAction, renotifyResultAction } from "@/server/hold-queue/actions";
import { getHeldResult } from "@/server/hold-queue/service";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { tryEngine } from "@/server/engine/client";

export const metadata: Metadata = { title: "Result" };

/** What an event on the timeline means, for a person. */
function describe(type: string, payload: Record<string, unknown>) {
  const p = payload as { routerId?: string; reason?: string; forwardFailed?: string; routersNotified?: number; from?: string; attempt?: number; attempts?: number; deliveryFailingCleared?: boolean };
  switch (type) {
    case "result.received": return "Received from the vendor";
    case "result.replaced": return "Replaced by a new copy of the same instance";
    case "result.notified":
      return p.forwardFailed ? `Back in the queue: the router could not forward it (${p.forwardFailed})${p.attempt ? `; attempt ${p.attempt}, offered again after a backoff` : ""}` : "Router notified";
    case "result.delivery_failing": return `Delivery failing after ${p.attempts ?? "?"} attempts: ${p.reason ?? ""} (still retried)`;
    case "result.pulled": return `Pulled by router ${p.routerId ?? ""}`;
    case "result.acked": return `Acknowledged: the PACS accepted it (router ${p.routerId ?? ""})${p.deliveryFailingCleared ? "; delivery no longer failing" : ""}`;
    case "result.expired": return "Expired (TTL)";
    case "result.purged": return `Purged: ${p.reason ?? ""}`;
    case "result.restored": return `Replacement never confirmed (${p.reason ?? ""}): the earlier copy is back`;
    case "result.renotified": return `Re-notified ${p.routersNotified ?? 0} router(s)`;
    default: return type;
  }
}

export default async function ResultPage({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const p = await params;
  const ctx = await requireTenantRole(p.tenant, ...rolesFor("hold-queue.view"));
  const found = await tryEngine(() => getHeldResult(ctx, p.id));
  if (!found.ok) return <EngineUnreachable message={found.message} />;
  const r = found.value;
  if (!r) notFound();
  const live = ["held", "notified", "pulled"].includes(r.status);
  const rows: [string, string][] = [
    ["Status", r.status],
    ["Received", formatTime(r.receivedAt)],
    ["Expires", live ? formatTime(r.expiresAt) : "—"],
    ["Vendor (calling AE)", r.callingAe],
    ["Called AE", r.calledAe],
    ["From", r.peerAddress],
    ["SOP class", `${r.sopClassName ?? ""} ${r.sopClassUid}`.trim()],
    ["Modality", r.modality ?? "—"],
    ["Study instance UID", r.studyInstanceUid ?? "—"],
    ["Series instance UID", r.seriesInstanceUid ?? "—"],
    ["SOP instance UID", r.sopInstanceUid],
    ["Transfer syntax", r.transferSyntaxUid],
    ["Size", formatBytes(r.sizeBytes)],
    ["SHA-256", r.sha256],
    ["Delivery attempts", r.deliveryAttempts ? `${r.deliveryAttempts} failed${r.lastFailureReason ? `; last: ${r.lastFailureReason}` : ""}` : "—"],
    ["Next attempt", live && r.nextAttemptAt ? formatTime(r.nextAttemptAt) : "—"],
  ];
  return (
    <div className="space-y-6">
      {live && <AutoRefresh seconds={3} />}
      <Link href={`/t/${ctx.tenantSlug}/hold-queue`} className="text-sm underline">← Hold queue</Link>
      <h1 className="text-2xl font-semibold">Result <span data-testid="result-status">{r.status}</span></h1>
      {r.deliveryFailing && (
        // The router keeps failing to forward it (its PACS refuses it, or is down): still retried, but someone should look.
        <p role="alert" data-testid="delivery-failing" className="max-w-4xl rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          <strong>Delivery failing</strong> since {formatTime(r.deliveryFailing.since)} after {r.deliveryFailing.attempts} attempts: {r.deliveryFailing.reason}.
          The router is still offered it, at most every few minutes.
        </p>
      )}
      <dl className="grid max-w-4xl grid-cols-[12rem_1fr] gap-x-4 gap-y-1 text-sm">
        {rows.map(([k, v]) => [<dt key={`${k}-t`} className="text-slate-500">{k}</dt>, <dd key={`${k}-d`} className="break-all font-mono text-xs">{v}</dd>])}
      </dl>
      <section>
        <h2 className="mb-2 font-medium">Timeline</h2>
        <ol className="space-y-1 text-sm" data-testid="timeline">
          {r.timeline.map((e) => (
            <li key={e.seq}><span className="font-mono text-xs text-slate-500">{formatTime(e.at)}</span> {describe(e.type, e.payload)}</li>
          ))}
        </ol>
      </section>
      {live && can(ctx.roles, "hold-queue.purge") && (
        <ResultActions purge={purgeResultAction.bind(null, ctx.tenantSlug, r.id)} renotify={renotifyResultAction.bind(null, ctx.tenantSlug, r.id)} />
      )}
    </div>
  );
}
