import type { Metadata } from "next";
import { requireEngineer } from "@/server/auth/session";
import { listAllTenants } from "@/server/tenancy/service";

export const metadata: Metadata = { title: "Operations" };

/** Engineers: the tenants registry, metadata only. Tenant data needs a break-glass grant. */
export default async function OpsPage() {
  await requireEngineer();
  const tenants = await listAllTenants();
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Operations</h1>
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Tenants you operate. Their data (results, audit, quarantine) opens only through a break-glass grant.
      </p>
      <table className="w-full max-w-3xl text-left text-sm" data-testid="ops-tenants">
        <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
          <tr><th className="py-2">Tenant</th><th>Slug</th><th>Created</th></tr>
        </thead>
        <tbody>
          {tenants.map((t) => (
            <tr key={t.id} className="border-b border-slate-100 dark:border-slate-900">
              <td className="py-2">{t.name}</td>
              <td className="font-mono">{t.slug}</td>
              <td>{t.createdAt.toISOString().slice(0, 10)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
