import type { Metadata } from "next";
import { AutoRefresh } from "@/components/ui/auto-refresh";
import { formatTime } from "@/components/ui/format";
import { AddWebhook, WebhookActions } from "@/components/webhooks/webhook-controls";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { createWebhookAction, removeWebhookAction, sendTestWebhookAction } from "@/server/webhooks/actions";
import { listWebhooks, WEBHOOK_EVENTS } from "@/server/webhooks/service";

export const metadata: Metadata = { title: "Webhooks" };

export default async function WebhooksPage({ params }: { params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("webhooks.view"));
  const { endpoints, deliveries } = await listWebhooks(ctx);
  const manage = can(ctx.roles, "webhooks.manage");
  const urlOf = new Map(endpoints.map((e) => [e.id, e.url]));
  return (
    <div className="space-y-5">
      <AutoRefresh seconds={5} />
      <div>
        <h1 className="text-2xl font-semibold">Webhooks</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">Migration milestones (25/50/75/100 %), anomalies (throughput low, quarantine spike, stalled), reports ready and, on a self-hosted deployment, the licence nearing expiry (30 and 7 days ahead) and expired, signed with HMAC-SHA256 and a timestamp, retried with backoff.</p>
      </div>
      <table className="w-full text-left text-sm" data-testid="webhooks">
        <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800"><tr><th className="py-2">URL</th><th>Events</th><th>Added</th>{manage && <th />}</tr></thead>
        <tbody>
          {endpoints.map((e) => (
            <tr key={e.id} className="border-b border-slate-100 dark:border-slate-900" data-testid="webhook-row">
              <td className="py-1.5 font-mono text-xs">{e.url}</td>
              <td>{e.events.join(", ")}</td>
              <td>{formatTime(e.createdAt.toISOString())}</td>
              {manage && <td><WebhookActions test={sendTestWebhookAction.bind(null, ctx.tenantSlug, e.id)} remove={removeWebhookAction.bind(null, ctx.tenantSlug, e.id)} /></td>}
            </tr>
          ))}
          {endpoints.length === 0 && <tr><td colSpan={4} className="py-4 text-slate-500">No receiver yet.</td></tr>}
        </tbody>
      </table>
      {manage && <AddWebhook add={createWebhookAction.bind(null, ctx.tenantSlug)} events={WEBHOOK_EVENTS} />}
      <section>
        <h2 className="mb-2 font-medium">Delivery log</h2>
        <table className="w-full text-left text-sm" data-testid="deliveries">
          <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800"><tr><th className="py-2">Created</th><th>Event</th><th>Receiver</th><th>Attempts</th><th>Last response</th><th>Delivered</th></tr></thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id} className="border-b border-slate-100 dark:border-slate-900" data-testid="delivery-row">
                <td className="py-1.5">{formatTime(d.createdAt.toISOString())}</td>
                <td>{d.event}{typeof (d.payload as { percent?: number }).percent === "number" ? ` ${(d.payload as { percent: number }).percent} %` : ""}</td>
                <td className="font-mono text-xs">{urlOf.get(d.endpointId) ?? "(removed)"}</td>
                <td data-testid="delivery-attempts">{d.attempts}</td>
                <td data-testid="delivery-status">{d.lastStatus ?? d.lastError ?? "—"}</td>
                <td>{d.deliveredAt ? formatTime(d.deliveredAt.toISOString()) : "not yet"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
