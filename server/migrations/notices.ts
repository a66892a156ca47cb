import "server-only";
import { migrationNotices, tenants } from "@/db/schema";
import { currentRate, workedHours, type Dashboard } from "@/lib/migrations/dashboard-model";
import { systemContext } from "../context";
import { withSystem, withTenant } from "../db";
import type { EngineClient } from "../engine/client";
import { recordDeliveries } from "../webhooks/service";

const HOUR = 3_600_000;
const MILESTONES = [25, 50, 75, 100];
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : 0;
};

/**
 * What a migration should announce now: milestones passed, and anomalies — the last worked hour below half the
 * median of the 24 before it, an hour whose quarantine entries spike (≥ 5 and ≥ 3× the recent median), or a
 * running migration inside its window that finished nothing for an hour. Each has a key: announced once.
 */
export function noticesFor(d: Dashboard, now: number) {
  const m = d.migration;
  const out: { key: string; kind: "milestone" | "anomaly"; payload: Record<string, unknown> }[] = [];
  const base = { migrationId: m.id, name: m.plan.name };
  const done = m.counts.migrated + m.counts.quarantined + m.counts.skipped;
  const pct = m.counts.discovered ? (done / m.counts.discovered) * 100 : 0;
  for (const ms of MILESTONES)
    if (pct >= ms && (ms < 100 || m.status === "completed")) out.push({ key: `milestone:${ms}`, kind: "milestone", payload: { event: "migration.milestone", ...base, percent: ms, done, discovered: m.counts.discovered } });

  const hours = workedHours(d, now).filter((h) => h.at + HOUR <= now);
  const last = hours.at(-1);
  const before = hours.slice(-25, -1).map((h) => h.studies);
  if (last && before.length >= 6 && median(before) > 0 && last.studies < 0.5 * median(before))
    out.push({ key: `anomaly:slow:${new Date(last.at).toISOString()}`, kind: "anomaly", payload: { event: "migration.anomaly", anomaly: "throughput_low", ...base, hour: new Date(last.at).toISOString(), studies: last.studies, recentMedian: median(before) } });

  const entered = new Map<string, number>();
  for (const q of d.quarantine) entered.set(q.bucket, (entered.get(q.bucket) ?? 0) + q.entered);
  const buckets = [...entered.keys()].sort();
  const lastQ = buckets.at(-1);
  if (lastQ) {
    const recent = buckets.slice(-25, -1).map((b) => entered.get(b)!);
    const n = entered.get(lastQ)!;
    if (n >= 5 && n >= 3 * Math.max(1, median(recent)))
      out.push({ key: `anomaly:quarantine:${lastQ}`, kind: "anomaly", payload: { event: "migration.anomaly", anomaly: "quarantine_spike", ...base, hour: lastQ, entered: n, recentMedian: median(recent) } });
  }

  const lastFinish = d.hourly.map((h) => Date.parse(h.bucket)).sort((a, b) => a - b).at(-1);
  const remaining = m.counts.pending + m.counts.inFlight;
  const running = hours.filter((h) => h.at >= now - 2 * HOUR).length >= 1;
  if (m.status === "running" && d.windowOpenNow && remaining > 0 && running && currentRate(d, now) === 0 && (lastFinish === undefined || lastFinish + 2 * HOUR <= now))
    out.push({ key: `anomaly:stalled:${lastFinish ?? "never"}`, kind: "anomaly", payload: { event: "migration.anomaly", anomaly: "stalled", ...base, lastFinishedHour: lastFinish ? new Date(lastFinish).toISOString() : null } });
  return out;
}

/** The worker's pass: every tenant's migrations, notices recorded once with their webhook deliveries. */
export async function announceMigrationNotices(engine: EngineClient, now = Date.now()) {
  const all = await withSystem((tx) => tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants));
  let sent = 0;
  for (const t of all) {
    const migrations = await engine.listMigrations(t.slug).catch(() => []);
    for (const m of migrations) {
      if (m.status === "created" || m.status === "discovering") continue;
      const d = await engine.migrationDashboard(t.slug, m.id);
      if (!d) continue;
      for (const n of noticesFor(d, now)) {
        sent += await withTenant(systemContext(t.id), async (tx) => {
          const fresh = await tx.insert(migrationNotices).values({ tenantId: t.id, migrationId: m.id, key: n.key }).onConflictDoNothing().returning({ key: migrationNotices.key });
          return fresh.length ? recordDeliveries(tx, t.id, n.kind, { ...n.payload, tenant: t.slug }) : 0;
        });
      }
    }
  }
  return sent;
}
