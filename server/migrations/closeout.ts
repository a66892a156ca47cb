import "server-only";
import { z } from "zod";
import type { TenantContext } from "../context";
import { engineClientFromEnv } from "../engine/client";
import { NotFoundError } from "../errors";

const csvCell = (v: unknown) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));

/**
 * A finished migration's evidence: the verification report as the engine renders it, and the reconciliation the
 * engine ran from independent facts (source and target inventoried again, compared with its records, each
 * difference named). The last run is exported; `run` (or no run yet) asks the engine to run it now.
 */
export async function closeout(ctx: Pick<TenantContext, "tenantSlug">, id: string, part: "verification" | "reconciliation", format: "csv" | "json", run = false) {
  const engine = engineClientFromEnv();
  const migrationId = z.uuid("not a migration id").parse(id);
  if (part === "verification") {
    const body = await engine.migrationVerification(ctx.tenantSlug, migrationId, format);
    if (body === null) throw new NotFoundError("No such migration in this tenant.");
    return { body, contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/json", fileName: `migration-${migrationId}-verification.${format}` };
  }
  const r = (!run && (await engine.lastReconciliation(ctx.tenantSlug, migrationId))) || (await engine.reconcileMigration(ctx.tenantSlug, migrationId));
  if (!r) throw new NotFoundError("No such migration in this tenant.");
  if (format === "json") return { body: JSON.stringify(r, null, 2), contentType: "application/json", fileName: `migration-${migrationId}-reconciliation.json` };
  const rows = [
    ["reconciled_at", r.reconciledAt],
    ["balanced", r.balanced],
    [],
    ["source", "studies_at_source", "instances_at_source", "migrated", "quarantined", "skipped", "remaining"],
    ...r.sources.map((s) => [s.source, s.studiesAtSource, s.instancesAtSource, s.migrated, s.quarantined, s.skipped, s.remaining]),
    [],
    ["target_studies_checked", "target_instances_expected", "target_instances_present"],
    [r.target.studiesChecked, r.target.instancesExpected, r.target.instancesPresent],
    [],
    ["quarantine_category", "studies"],
    ...r.quarantined.map((q) => [q.category, q.studies]),
    [],
    ["source", "study_instance_uid", "difference", "message"],
    ...r.differences.map((d) => [d.sourceId ?? "", d.studyInstanceUid, d.kind, d.message]),
  ];
  return { body: rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n", contentType: "text/csv; charset=utf-8", fileName: `migration-${migrationId}-reconciliation.csv` };
}
