import type { Metadata } from "next";
import Link from "next/link";
import { GrantButton } from "@/components/break-glass/grant-controls";
import { GrantRequestForm } from "@/components/break-glass/request-form";
import { CreateTenantForm } from "@/components/tenancy/create-tenant-form";
import { LicenceCard } from "@/components/licence/licence-card";
import { SuspensionControls } from "@/components/tenancy/suspension-controls";
import { OffboardingControls } from "@/components/tenancy/offboarding-controls";
import { OffboardedSummary } from "@/components/tenancy/offboarded-summary";
import { formatTime } from "@/components/ui/format";
import { endGrantAction, prepareGrantAction } from "@/server/break-glass/actions";
import { listMyGrants } from "@/server/break-glass/service";
import { requireEngineer } from "@/server/auth/session";
import {
  cancelOffboardingAction,
  completeOffboardingAction,
  createTenantAction,
  reactivateTenantAction,
  requestOffboardingAction,
  suspendTenantAction,
} from "@/server/tenancy/actions";
import { authEnv } from "@/server/env";
import { isRecentAuth, reauthUrl } from "@/server/auth/step-up";
import { tenantsOverview } from "@/server/tenancy/operations";
import { engineClientFromEnv, tryEngine } from "@/server/engine/client";

export const metadata: Metadata = { title: "Operations" };

/** Engineers: the licence (self-hosted), the tenants registry (metadata only), their own break-glass grants, and a new request. */
export default async function OpsPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const user = await requireEngineer();
  const [tenants, grants, sp, licence] = await Promise.all([tenantsOverview(), listMyGrants(user), searchParams, tryEngine(() => engineClientFromEnv().licence())]);
  const now = new Date().toISOString();
  const authFresh = isRecentAuth(user.authTime, authEnv().AUTH_STEP_UP_MAX_AGE_SECONDS);
  return (
    <div className="space-y-8">
      <div>
        <h1 className="text-2xl font-semibold">Operations</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Tenants you operate. Their data (results, audit, quarantine) opens only through a break-glass grant, which the tenant sees.
        </p>
        {sp.requested === "pending" && <p role="status" className="mt-2 text-sm text-amber-700">Your request waits for the tenant&apos;s approval.</p>}
        {sp.ended && <p role="status" className="mt-2 text-sm text-emerald-700">Access ended.</p>}
      </div>
      {licence.ok && <LicenceCard licence={licence.value} />}
      <table className="w-full max-w-5xl text-left text-sm" data-testid="ops-tenants">
        <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
          <tr><th className="py-2">Tenant</th><th>Slug</th><th>Mode</th><th>Status</th><th>Members</th><th>Config</th><th>Routers connected</th><th>Created</th><th /></tr>
        </thead>
        <tbody>
          {tenants.map((t) => (
            <tr key={t.id} className="border-b border-slate-100 align-top dark:border-slate-900" data-testid="ops-tenant" data-slug={t.slug}>
              <td className="py-2">{t.name}</td>
              <td className="font-mono">{t.slug}</td>
              <td>{licence.ok ? licence.value.mode : "—"}</td>
              <td data-testid="tenant-status">
                {t.offboarded ? (
                  <span className="text-slate-500" title={`by ${t.offboarded.by}`}>offboarded {formatTime(t.offboarded.at.toISOString())}</span>
                ) : t.suspended ? (
                  <span className="text-red-700" title={`by ${t.suspended.by ?? "?"}: ${t.suspended.reason}`}>suspended since {formatTime(t.suspended.since.toISOString())}</span>
                ) : (
                  "active"
                )}
              </td>
              <td>{t.members}</td>
              <td>{t.configSync}</td>
              <td>{t.routersConnected ?? "engine unreachable"}</td>
              <td>{t.createdAt.toISOString().slice(0, 10)}</td>
              <td className="space-y-2 py-2">
                {t.offboarded ? (
                  <OffboardedSummary slug={t.slug} receipt={t.offboarded.receipt} />
                ) : (
                  <>
                    {!t.offboarding && (
                      <SuspensionControls
                        tenantName={t.name}
                        suspended={Boolean(t.suspended)}
                        action={(t.suspended ? reactivateTenantAction : suspendTenantAction).bind(null, t.slug)}
                      />
                    )}
                    {t.suspended && (
                      <OffboardingControls
                        tenantName={t.name}
                        slug={t.slug}
                        request={t.offboarding && { requestedAt: t.offboarding.requestedAt.toISOString(), by: t.offboarding.by, reason: t.offboarding.reason, dueAt: t.offboarding.dueAt.toISOString() }}
                        now={now}
                        authFresh={authFresh}
                        reauthHref={reauthUrl("/ops")}
                        requestAction={requestOffboardingAction.bind(null, t.slug)}
                        cancelAction={cancelOffboardingAction.bind(null, t.slug)}
                        completeAction={completeOffboardingAction.bind(null, t.slug)}
                      />
                    )}
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <section className="space-y-3">
        <h2 className="text-lg font-semibold">Create a tenant</h2>
        <CreateTenantForm action={createTenantAction} />
      </section>

      <section className="space-y-3">
        <h2 className="text-lg font-semibold">Your break-glass grants</h2>
        <table className="w-full max-w-5xl text-left text-sm" data-testid="my-grants">
          <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
            <tr><th className="py-2">Tenant</th><th>Scope</th><th>Status</th><th>Ticket</th><th>Requested</th><th>Ends</th><th /></tr>
          </thead>
          <tbody>
            {grants.map(({ grant: g, tenantSlug, tenantName }) => (
              <tr key={g.id} className="border-b border-slate-100 dark:border-slate-900">
                <td className="py-1.5">{g.status === "active" ? <Link className="underline" href={`/t/${tenantSlug}`}>{tenantName}</Link> : tenantName}</td>
                <td>{g.scope === "read_only" ? "read-only" : "read-write"}</td>
                <td data-testid="grant-status">{g.status}</td>
                <td>{g.ticket}</td>
                <td>{formatTime(g.requestedAt.toISOString())}</td>
                <td>{formatTime(g.endsAt?.toISOString())}</td>
                <td>{g.status === "active" && <GrantButton label="End now" run={endGrantAction.bind(null, g.id)} />}</td>
              </tr>
            ))}
            {grants.length === 0 && <tr><td colSpan={7} className="py-3 text-slate-500">None yet.</td></tr>}
          </tbody>
        </table>
      </section>

      <section className="space-y-3">
        <h2 className="text-lg font-semibold">Request break-glass access</h2>
        <p className="text-sm text-slate-600 dark:text-slate-400">After submitting you sign in again at the identity provider; only then does access open (or wait for the tenant&apos;s approval, where required).</p>
        <GrantRequestForm tenants={tenants.filter((t) => !t.offboarded).map((t) => ({ slug: t.slug, name: t.name }))} prepare={prepareGrantAction} />
      </section>
    </div>
  );
}
