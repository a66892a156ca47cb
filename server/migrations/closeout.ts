import "server-only";
import { z } from "zod";
import type { TenantContext } from "../context";
import { engineClientFromEnv } from "../engine/client";
import { NotFoundError } from "../errors";

const csvCell = (v: unknown) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));

/**
 * A finished migration's evidence: the verification report as the engine renders it, and the reconciliation
 * (discovered = migrated + quarantined + skipped + remaining, each difference with its reason).
 */
export async function closeout(ctx: Pick<TenantContext, "tenantSlug">, id: string, part: "verification" | "reconciliation", format: "csv" | "json") {
  const engine = engineClientFromEnv();
  const migrationId = z.uuid("not a migration id").parse(id);
  if (part === "verification") {
    const body = await engine.migrationVerification(ctx.tenantSlug, migrationId, format);
    if (body === null) throw new NotFoundError("No such migration in this tenant.");
    return { body, contentType: format === "csv" ? "text/csv; charset=utf-8" : "application/json", fileName: `migration-${migrationId}-verification.${format}` };
  }
  const progress = await engine.migrationProgress(ctx.tenantSlug, migrationId);
  if (!progress) throw new NotFoundError("No such migration in this tenant.");
  const r = progress.reconciliation;
  if (format === "json") return { body: JSON.stringify({ migrationId, ...r, sources: progress.sources }, null, 2), contentType: "application/json", fileName: `migration-${migrationId}-reconciliation.json` };
  const rows = [
    ["source", "discovered", "migrated", "quarantined", "skipped", "remaining"],
    ...progress.sources.map((s) => [s.source, s.discovered, s.migrated, s.quarantined, s.skipped, s.pending + s.inFlight]),
    ["total", r.discovered, r.migrated, Object.values(r.quarantined).reduce((n, v) => n + v, 0), r.skipped, r.remaining],
    [],
    ["difference"],
    ...r.differences.map((d) => [d]),
    [],
    ["balanced", r.balanced],
  ];
  return { body: rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n", contentType: "text/csv; charset=utf-8", fileName: `migration-${migrationId}-reconciliation.csv` };
}
