import type { OffboardReceipt } from "@/engine/api/contract";

/** An offboarded tenant in /ops: what the engine purged, and its kept audit log to export. */
export function OffboardedSummary({ slug, receipt }: { slug: string; receipt: OffboardReceipt | null }) {
  const exportHref = `/api/ops/tenants/${encodeURIComponent(slug)}/audit/export`;
  return (
    <div className="max-w-xs space-y-1 text-slate-600 dark:text-slate-400" data-testid="offboarded-summary">
      {receipt && (
        <p>
          {receipt.resultsPurged} held result(s) purged, {receipt.evidenceDeleted} evidence instance(s) and {receipt.migrationsDeleted} migration(s) deleted,{" "}
          {receipt.routersRevoked} router(s) revoked{receipt.dataKeyDestroyed ? ", data key destroyed" : ""}. Reason: {receipt.reason}
        </p>
      )}
      <p>
        Audit log kept: <a className="underline" href={exportHref}>export (JSON Lines)</a> · <a className="underline" href={`${exportHref}?format=csv`}>CSV</a>
      </p>
    </div>
  );
}
