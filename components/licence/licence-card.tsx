import type { LicenceStatus } from "@/engine/api/contract";

const LIMITS = [
  ["routers", "Routers enrolled", (n: number) => String(n)],
  ["tenants", "Tenants", (n: number) => String(n)],
  ["migratedTb", "Migrated", (n: number) => `${n < 10 ? n.toFixed(3).replace(/\.?0+$/, "") : n.toFixed(1)} TB`],
] as const;

/**
 * The self-hosted licence for engineers (/ops) and tenant admins (overview): what it covers, usage against its
 * limits and days to expiry, with the 30-day warning. Hosted deployments need no licence, so nothing is shown.
 */
export function LicenceCard({ licence }: { licence: LicenceStatus }) {
  if (licence.mode !== "self-hosted") return null;
  const l = licence.licence;
  const tone = licence.status === "valid" && !licence.warning ? "text-emerald-700 dark:text-emerald-400" : licence.status === "valid" ? "text-amber-700 dark:text-amber-400" : "text-red-700 dark:text-red-400";
  return (
    <section className="max-w-5xl space-y-2 rounded-lg border border-slate-200 p-4 text-sm dark:border-slate-800" data-testid="licence">
      <h2 className="text-sm font-medium text-slate-600 dark:text-slate-400">Licence</h2>
      <p className={`font-medium ${tone}`} data-testid="licence-status">
        {licence.status === "valid" ? "Valid" : licence.status === "expired" ? "Expired" : "Refused"}
        {licence.daysToExpiry !== null && licence.status === "valid" && ` · ${licence.daysToExpiry} day(s) to expiry`}
        {l && !l.expiresAt && " · perpetual"}
      </p>
      <p>{licence.message}</p>
      {licence.warning && <p role="alert" className="text-amber-700 dark:text-amber-400" data-testid="licence-warning">{licence.warning}</p>}
      {l && (
        <>
          <p className="text-slate-600 dark:text-slate-400">
            {l.licensee} · deployment <span className="font-mono">{l.deploymentId}</span> · features: {l.features.join(", ")} · issued {l.issuedAt} · expires {l.expiresAt ?? "never"} · maintenance until {l.maintenanceEndsAt}
          </p>
          <table className="text-left">
            <thead className="text-slate-500"><tr><th className="pr-6">Limit</th><th className="pr-6">Used</th><th>Licensed</th></tr></thead>
            <tbody>
              {LIMITS.map(([key, label, fmt]) => (
                <tr key={key}>
                  <td className="pr-6">{label}</td>
                  <td className="pr-6" data-testid={`licence-usage-${key}`}>{fmt(licence.usage[key])}</td>
                  <td>{l.limits[key] === null ? "unlimited" : fmt(l.limits[key])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
