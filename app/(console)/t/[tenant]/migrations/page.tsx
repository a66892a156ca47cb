import type { Metadata } from "next";
import Link from "next/link";
import { AutoRefresh } from "@/components/ui/auto-refresh";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { formatBytes, formatTime } from "@/components/ui/format";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { tryEngine } from "@/server/engine/client";
import { listMigrationSummaries } from "@/server/migrations/service";

export const metadata: Metadata = { title: "Migrations" };

const iso = (t: number | null) => (t === null ? "—" : formatTime(new Date(t).toISOString()).slice(0, 16) + " UTC");

export default async function MigrationsPage({ params }: { params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("migrations.view"));
  const list = await tryEngine(() => listMigrationSummaries(ctx));
  return (
    <div className="space-y-5">
      <AutoRefresh seconds={10} />
      <div>
        <h1 className="text-2xl font-semibold">Migrations</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">Archive-to-archive migrations: where each stands and when it will finish (P50 of the forecast).</p>
        {can(ctx.roles, "migrations.operate") && (
          <Link href={`/t/${ctx.tenantSlug}/migrations/new`} className="mt-2 inline-block rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white">New migration</Link>
        )}
      </div>
      {!list.ok ? (
        <EngineUnreachable message={list.message} />
      ) : (
        <table className="w-full text-left text-sm" data-testid="migrations">
          <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
            <tr><th className="py-2">Name</th><th>State</th><th>Progress</th><th>Studies done / remaining</th><th>Bytes done / remaining</th><th>Rate</th><th>P50 finish</th><th>Quarantined</th><th>Last activity</th></tr>
          </thead>
          <tbody>
            {list.value.map((m) => {
              const done = m.counts.migrated + m.counts.quarantined + m.counts.skipped;
              const pct = m.counts.discovered ? Math.floor((done / m.counts.discovered) * 100) : 0;
              return (
                <tr key={m.id} className="border-b border-slate-100 dark:border-slate-900" data-testid="migration-row">
                  <td className="py-1.5"><Link className="text-sky-700 underline" href={`/t/${ctx.tenantSlug}/migrations/${m.id}`}>{m.name}</Link></td>
                  <td>{m.state}</td>
                  <td className="w-32"><div className="h-2 rounded bg-slate-200 dark:bg-slate-800" title={`${pct} %`}><div className="h-2 rounded bg-emerald-600" style={{ width: `${pct}%` }} /></div></td>
                  <td>{done} / {m.counts.pending + m.counts.inFlight}</td>
                  <td>{formatBytes(m.bytesDone)} / {m.bytesRemaining === null ? "—" : formatBytes(m.bytesRemaining)}</td>
                  <td>{m.studiesPerHour} /h</td>
                  <td>{iso(m.p50Finish)}</td>
                  <td>{m.quarantined}</td>
                  <td>{formatTime(m.lastActivity)}</td>
                </tr>
              );
            })}
            {list.value.length === 0 && <tr><td colSpan={9} className="py-4 text-slate-500">No migrations yet.</td></tr>}
          </tbody>
        </table>
      )}
    </div>
  );
}
