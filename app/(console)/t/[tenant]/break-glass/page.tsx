import type { Metadata } from "next";
import { GrantButton } from "@/components/break-glass/grant-controls";
import { PolicyForm } from "@/components/break-glass/policy-form";
import { AutoRefresh } from "@/components/ui/auto-refresh";
import { formatTime } from "@/components/ui/format";
import { approveGrantAction, denyGrantAction, revokeGrantAction, updatePolicyAction } from "@/server/break-glass/actions";
import { getPolicy, listTenantGrants } from "@/server/break-glass/service";
import { rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";

export const metadata: Metadata = { title: "Vendor access" };

/** Every break-glass grant on this tenant, kept for good: who, why, when, and what was opened or changed under it. */
export default async function VendorAccessPage({ params }: { params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("break-glass.view"));
  const [grants, policy] = await Promise.all([listTenantGrants(ctx), getPolicy(ctx.tenantId)]);
  const slug = ctx.tenantSlug;
  return (
    <div className="space-y-6">
      <AutoRefresh seconds={3} />
      <div>
        <h1 className="text-2xl font-semibold">Vendor access</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">Vendor engineers reach your data only through these time-bound grants. You can revoke an active one at any time.</p>
      </div>
      <PolicyForm requireApproval={policy.requireApproval} approvalWindowMinutes={policy.approvalWindowMinutes} save={updatePolicyAction.bind(null, slug)} />
      <ul className="space-y-4" data-testid="grants">
        {grants.map((g) => (
          <li key={g.id} className="rounded-lg border border-slate-200 p-4 text-sm dark:border-slate-800" data-testid="grant" data-status={g.status}>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p>
                <strong>{g.engineerName}</strong> ({g.engineerEmail}) · {g.scope === "read_only" ? "read-only" : "read-write"} · <span data-testid="grant-status">{g.status}</span> · ticket {g.ticket}
              </p>
              <span className="flex gap-2">
                {g.status === "pending" && (
                  <>
                    <GrantButton label="Approve" run={approveGrantAction.bind(null, slug, g.id)} />
                    <GrantButton label="Deny" run={denyGrantAction.bind(null, slug, g.id)} />
                  </>
                )}
                {g.status === "active" && <GrantButton label="Revoke" tone="danger" testId="revoke-grant" confirm={`Revoke ${g.engineerName}'s access now?`} run={revokeGrantAction.bind(null, slug, g.id)} />}
              </span>
            </div>
            <p className="text-slate-600 dark:text-slate-400">Why: {g.justification}</p>
            <p className="text-slate-600 dark:text-slate-400">
              Requested {formatTime(g.requestedAt.toISOString())} · from {formatTime(g.startsAt?.toISOString())} to {formatTime(g.endsAt?.toISOString())}
              {g.closeReason ? ` · ${g.closeReason}` : ""}{g.closedByEmail ? ` by ${g.closedByEmail}` : ""}{g.decidedByEmail ? ` · decided by ${g.decidedByEmail}` : ""}
            </p>
            <details className="mt-2">
              <summary className="cursor-pointer">Opened or changed under this grant ({g.access.length}{g.access.length === 50 ? "+" : ""})</summary>
              <ul className="mt-1 font-mono text-xs" data-testid="grant-access">
                {g.access.map((a) => <li key={a.seq}>{formatTime(a.at.toISOString())} {a.action} {a.target}</li>)}
              </ul>
            </details>
          </li>
        ))}
        {grants.length === 0 && <li className="text-sm text-slate-500">No vendor engineer has ever had access to this tenant.</li>}
      </ul>
    </div>
  );
}
