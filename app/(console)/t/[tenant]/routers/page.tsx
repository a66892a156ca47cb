import type { Metadata } from "next";
import { EnrollRouter, RevokeRouter } from "@/components/routers/router-controls";
import { AutoRefresh } from "@/components/ui/auto-refresh";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { formatTime } from "@/components/ui/format";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { tryEngine } from "@/server/engine/client";
import { enrollRouterAction, revokeRouterAction } from "@/server/routers/actions";
import { listRouters, STALE_AFTER_MS } from "@/server/routers/service";

export const metadata: Metadata = { title: "Routers" };

export default async function RoutersPage({ params }: { params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("routers.view"));
  const list = await tryEngine(() => listRouters(ctx));
  const manage = can(ctx.roles, "routers.manage");
  return (
    <div className="space-y-5">
      <AutoRefresh seconds={5} />
      <div>
        <h1 className="text-2xl font-semibold">Routers</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          On-prem routers pull your results over an outbound, certificate-authenticated connection. A router offline or silent for more than {STALE_AFTER_MS / 1000} s is flagged.
        </p>
      </div>
      {!list.ok ? (
        <EngineUnreachable message={list.message} />
      ) : (
        <>
          <p className="text-sm" data-testid="pending-results">Results waiting for a router: {list.value.pendingResults}</p>
          <table className="w-full text-left text-sm" data-testid="routers">
            <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
              <tr><th className="py-2">Name</th><th>Certificate subject</th><th>State</th><th>Address</th><th>Connected since</th><th>Last heartbeat</th><th>Last pull</th><th>Last pull latency</th><th>Certificate valid to</th>{manage && <th />}</tr>
            </thead>
            <tbody>
              {list.value.routers.map((r) => (
                <tr key={r.id} className="border-b border-slate-100 align-top dark:border-slate-900" data-testid="router-row">
                  <td className="py-1.5">{r.name}</td>
                  <td className="font-mono text-xs">
                    {r.subject}
                    <div className="text-slate-500">{r.calledAeTitles.length ? `only ${r.calledAeTitles.join(", ")}` : "all AE titles"}</div>
                  </td>
                  <td>
                    {r.revokedAt ? <span className="text-slate-500">revoked</span> : r.connected ? <span className="text-emerald-700">connected</span> : <span className="text-slate-500">offline</span>}
                    {r.stale && <span className="ml-1 rounded bg-amber-100 px-1 text-xs text-amber-900" data-testid="stale">not seen recently</span>}
                  </td>
                  <td className="font-mono text-xs">{r.address ?? "—"}</td>
                  <td>{formatTime(r.connectedSince)}</td>
                  <td>{formatTime(r.lastHeartbeat)}</td>
                  <td>{formatTime(r.lastPullAt)}</td>
                  <td>{r.lastPullLatencyMs === null ? "—" : `${Math.round(r.lastPullLatencyMs)} ms`}</td>
                  <td>{formatTime(r.notAfter)}</td>
                  {manage && <td>{!r.revokedAt && <RevokeRouter name={r.name} revoke={revokeRouterAction.bind(null, ctx.tenantSlug, r.id)} />}</td>}
                </tr>
              ))}
              {list.value.routers.length === 0 && <tr><td colSpan={10} className="py-4 text-slate-500">No router enrolled yet.</td></tr>}
            </tbody>
          </table>
          {list.value.enrolments.length > 0 && (
            <ul className="space-y-1 text-sm text-slate-600 dark:text-slate-400" data-testid="pending-enrolments">
              {list.value.enrolments.map((e) => (
                <li key={e.id}>
                  <span className="font-medium text-slate-800 dark:text-slate-200">{e.name}</span>: waiting for the router to enrol with its code (valid until {formatTime(e.expiresAt)})
                </li>
              ))}
            </ul>
          )}
          {manage && <EnrollRouter enroll={enrollRouterAction.bind(null, ctx.tenantSlug)} />}
        </>
      )}
    </div>
  );
}
