import "server-only";
import { z } from "zod";
import { MigrationWindows } from "@/engine/api/contract";
import { currentRate, forecastFor, quarantineDepth } from "@/lib/migrations/dashboard-model";
import { appendAudit } from "../audit/append";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { NotFoundError } from "../errors";

const MigrationId = z.uuid("not a migration id");

/** Each migration with what the list shows: state, progress, rate, P50 finish, quarantine, last activity. */
export async function listMigrationSummaries(ctx: Pick<TenantContext, "tenantSlug">, now = Date.now()) {
  const engine = engineClientFromEnv();
  const migrations = await engine.listMigrations(ctx.tenantSlug);
  return Promise.all(
    migrations.map(async (m) => {
      const d = (await engine.migrationDashboard(ctx.tenantSlug, m.id))!;
      const forecast = m.status === "running" || m.status === "paused" ? forecastFor(d, now, { runs: 400 }) : null;
      const bytesDone = [...d.daily, ...d.hourly].reduce((n, h) => n + h.bytes, 0);
      const last = [...d.hourly.map((h) => h.bucket), ...d.events.map((e) => e.createdAt)].sort().at(-1) ?? m.createdAt;
      return {
        id: m.id,
        name: m.plan.name,
        // "outside window" is a running migration whose schedule is closed now.
        state: m.status === "running" && !d.windowOpenNow ? "outside window" : m.status === "completed" ? "finished" : m.status,
        counts: m.counts,
        bytesDone,
        // Bytes remaining, estimated from the bytes per study so far.
        bytesRemaining: m.counts.migrated ? Math.round((bytesDone / m.counts.migrated) * (m.counts.pending + m.counts.inFlight)) : null,
        studiesPerHour: Math.round(currentRate(d, now)),
        p50Finish: forecast?.finish.p50 ?? null,
        quarantined: Object.values(quarantineDepth(d).current).reduce((n, v) => n + v, 0),
        lastActivity: last,
      };
    }),
  );
}

export async function migrationDashboard(ctx: Pick<TenantContext, "tenantSlug">, id: string, since?: string | null) {
  const parsedSince = since ? z.iso.datetime({ offset: true, error: "since is an ISO 8601 instant" }).parse(since) : undefined;
  const d = await engineClientFromEnv().migrationDashboard(ctx.tenantSlug, MigrationId.parse(id), parsedSince);
  if (!d) throw new NotFoundError("No such migration in this tenant.");
  return d;
}

// ---- control: validate, call the engine, audit --------------------------------------------------------------

const audit = (ctx: TenantContext, action: string, id: string, before: unknown, after: unknown, reason?: string) =>
  withTenant(ctx, (tx) =>
    appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action, target: `migration:${id}`, before, after, ...(reason ? { reason } : {}) }),
  );

export async function pauseMigration(ctx: TenantContext, id: string) {
  const m = await engineClientFromEnv().pauseMigration(ctx.tenantSlug, MigrationId.parse(id));
  await audit(ctx, "migrations.pause", m.id, { status: "running" }, { status: m.status });
  return m;
}

export async function resumeMigration(ctx: TenantContext, id: string) {
  const m = await engineClientFromEnv().resumeMigration(ctx.tenantSlug, MigrationId.parse(id));
  await audit(ctx, "migrations.resume", m.id, { status: "paused" }, { status: m.status });
  return m;
}

export async function migrationCheckpoints(ctx: Pick<TenantContext, "tenantSlug">, id: string) {
  const list = await engineClientFromEnv().migrationCheckpoints(ctx.tenantSlug, MigrationId.parse(id));
  if (!list) throw new NotFoundError("No such migration in this tenant.");
  return list;
}

export const RollbackForm = z.object({
  checkpointId: z.uuid("Choose a checkpoint."),
  reason: z.string().trim().min(3, "Give a reason of at least 3 characters.").max(2000, "At most 2000 characters."),
});

/** Back to a checkpoint; the audit entry names it and the studies put back, with the person's reason. */
export async function rollbackMigration(ctx: TenantContext, id: string, input: z.input<typeof RollbackForm>) {
  const f = RollbackForm.parse(input);
  const r = await engineClientFromEnv().rollbackMigration(ctx.tenantSlug, MigrationId.parse(id), {
    checkpointId: f.checkpointId,
    reason: f.reason,
    requestedBy: { userId: ctx.actor.userId, name: ctx.actor.name },
  });
  await audit(
    ctx,
    "migrations.rollback",
    r.migration.id,
    { checkpoint: { id: r.checkpoint.id, seq: r.checkpoint.seq, reason: r.checkpoint.reason, takenAt: r.checkpoint.takenAt } },
    { status: r.migration.status, redo: r.studies.map((s) => ({ sourceId: s.sourceId, studyInstanceUid: s.studyInstanceUid, previousStatus: s.previousStatus, previousRecordHash: s.previousRecordHash })) },
    f.reason,
  );
  return r;
}

const MB = 1_000_000;
/** Megabytes per second in the form ("" = no cap), bytes per second to the engine. */
const CapMbps = z
  .string()
  .trim()
  .transform((s, c) => {
    if (s === "") return null;
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) {
      c.addIssue({ code: "custom", message: "A cap is a positive number of MB/s, or empty for none." });
      return z.NEVER;
    }
    return Math.round(n * MB);
  });

export const SettingsForm = z.object({
  windows: z
    .string()
    .transform((s, c) => {
      if (s === "" || s === "null") return null;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        c.addIssue({ code: "custom", message: "The window schedule could not be read." });
        return z.NEVER;
      }
    })
    .pipe(MigrationWindows.nullable()),
  overallCap: CapMbps,
  perSourceCap: CapMbps,
  priority: z.coerce.number({ error: "Priority is a number 0..100." }).int("Priority is a whole number.").min(0, "Priority is 0..100.").max(100, "Priority is 0..100."),
  concurrency: z.coerce.number({ error: "Workers is a number 1..16." }).int("Workers is a whole number.").min(1, "At least 1 worker.").max(16, "At most 16 workers."),
});

export async function updateMigrationSettings(ctx: TenantContext, id: string, input: z.input<typeof SettingsForm>) {
  const f = SettingsForm.parse(input);
  const engine = engineClientFromEnv();
  const before = await engine.getMigration(ctx.tenantSlug, MigrationId.parse(id));
  if (!before) throw new NotFoundError("No such migration in this tenant.");
  const settings = {
    windows: f.windows,
    bandwidth: { overallBytesPerSecond: f.overallCap, perSourceBytesPerSecond: f.perSourceCap },
    priority: f.priority,
    concurrency: f.concurrency,
  };
  const after = await engine.updateMigrationSettings(ctx.tenantSlug, before.id, { ...settings, changedBy: { userId: ctx.actor.userId, name: ctx.actor.name } });
  const pick = (p: typeof before.plan) => ({ windows: p.windows ?? null, bandwidth: p.bandwidth, priority: p.priority, concurrency: p.concurrency });
  await audit(ctx, "migrations.settings", before.id, pick(before.plan), pick(after.plan));
  return after;
}
