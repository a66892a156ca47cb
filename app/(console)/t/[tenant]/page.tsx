import type { Metadata } from "next";
import { ROLE_LABELS } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { getTenantOverview } from "@/server/tenancy/service";
import { Card } from "@/components/ui/card";
import { LicenceCard } from "@/components/licence/licence-card";
import { engineClientFromEnv, tryEngine } from "@/server/engine/client";

export const metadata: Metadata = { title: "Overview" };

export default async function TenantOverview({ params }: { params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant);
  const o = await getTenantOverview(ctx);
  // The deployment's licence is the tenant admin's business (renewal, limits); other roles do not see it.
  const licence = ctx.roles.includes("tenant_admin") ? await tryEngine(() => engineClientFromEnv().licence()) : null;
  const synced = o.config && o.config.appliedVersion === o.config.version;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold" data-testid="tenant-name">{ctx.tenantName}</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Your roles: {ctx.roles.map((r) => ROLE_LABELS[r]).join(", ")}
        </p>
      </div>
      {licence?.ok && <LicenceCard licence={licence.value} />}
      <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
        <Card title="Retention">
          <p className="text-3xl font-semibold">{o.config?.ttlDays ?? "—"} days</p>
          <p className="text-sm text-slate-500">Held results are purged when nobody has pulled them by then.</p>
        </Card>
        <Card title="Engine configuration">
          <p data-testid="config-sync" className={synced ? "text-emerald-700 dark:text-emerald-400" : "text-amber-700 dark:text-amber-400"}>
            {synced ? `Applied (version ${o.config!.version})` : `Pending: version ${o.config?.version ?? "?"} not yet applied`}
          </p>
          {o.config?.appliedAt && <p className="text-sm text-slate-500">Last applied {o.config.appliedAt.toISOString()}</p>}
          {o.config?.lastSyncError && !synced && <p className="text-sm text-red-700">Last attempt: {o.config.lastSyncError}</p>}
        </Card>
        <Card title="Called AE titles">
          <ul className="font-mono text-sm" data-testid="called-ae-titles">
            {o.calledAeTitles.map((t) => <li key={t}>{t}</li>)}
            {o.calledAeTitles.length === 0 && <li className="font-sans text-slate-500">None: vendors cannot send yet.</li>}
          </ul>
        </Card>
        <Card title="Allowed vendors (calling AE titles)">
          <ul className="font-mono text-sm">
            {o.allowedCallingAeTitles.map((t) => <li key={t}>{t}</li>)}
            {o.allowedCallingAeTitles.length === 0 && <li className="font-sans text-slate-500">Any vendor may send.</li>}
          </ul>
        </Card>
        {ctx.roles.includes("tenant_admin") && (
          <Card title="Members">
            <ul className="space-y-1 text-sm" data-testid="members">
              {o.members.map((m) => (
                <li key={`${m.email}-${m.role}`}>
                  {m.email} · {ROLE_LABELS[m.role]} {m.linked ? "" : <span className="text-slate-500">(not signed in yet)</span>}
                </li>
              ))}
            </ul>
          </Card>
        )}
      </div>
    </div>
  );
}
