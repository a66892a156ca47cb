import { GrantButton } from "./grant-controls";

/** On every page an engineer opens through a grant: which tenant, what scope, how long, and End now. */
export function GrantBanner({ tenantName, scope, endsAt, end }: { tenantName: string; scope: "read_only" | "read_write"; endsAt: string; end: () => Promise<unknown> }) {
  const minutes = Math.max(0, Math.round((Date.parse(endsAt) - Date.now()) / 60_000));
  return (
    <div role="status" data-testid="grant-banner" className="mb-4 flex flex-wrap items-center justify-between gap-2 rounded-md border border-amber-400 bg-amber-50 px-4 py-2 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
      <span>
        Break-glass access to <strong>{tenantName}</strong> · {scope === "read_only" ? "read-only" : "read-write"} · {minutes} min left (until {endsAt.slice(11, 16)} UTC). Everything you open is recorded in the tenant&apos;s audit log.
      </span>
      <GrantButton label="End now" tone="danger" testId="end-grant" run={end as () => Promise<undefined>} />
    </div>
  );
}

/** For the tenant's own people: a vendor engineer has access right now. */
export function VendorAccessNotice({ grants, slug, canManage }: { grants: { engineerName: string; engineerEmail: string; scope: string; endsAt: Date | null }[]; slug: string; canManage: boolean }) {
  return (
    <div role="status" data-testid="vendor-access-notice" className="mb-4 rounded-md border border-sky-300 bg-sky-50 px-4 py-2 text-sm text-sky-950 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100">
      {grants.map((g) => (
        <p key={`${g.engineerEmail}-${g.endsAt?.toISOString()}`}>
          Vendor engineer {g.engineerName} ({g.engineerEmail}) has {g.scope === "read_only" ? "read-only" : "read-write"} break-glass access until {g.endsAt?.toISOString().slice(11, 16)} UTC.{" "}
          {canManage && <a className="underline" href={`/t/${slug}/break-glass`}>Review or revoke</a>}
        </p>
      ))}
    </div>
  );
}
