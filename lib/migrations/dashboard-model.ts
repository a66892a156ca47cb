// The migration dashboard's figures from the engine's roll-ups, pure so the page, the live client, the weekly
// report and the list share them: merging a since-poll into what is held, the hours the forecast samples from,
// the forecast itself with its back-test, and the chart series.
import type { MigrationDashboard } from "@/engine/api/contract";
import { backtest, forecastFinish, hourOpen, type HourSample, type WeeklyWindows } from "@/lib/forecast";

export type Dashboard = MigrationDashboard;
const HOUR = 3_600_000;

/** A since-poll merged into the figures held: changed buckets replace theirs, new events are appended. */
export function mergeDashboard(held: Dashboard, poll: Dashboard): Dashboard {
  const hk = (h: Dashboard["hourly"][number]) => `${h.bucket}|${h.source}`;
  const qk = (q: Dashboard["quarantine"][number]) => `${q.bucket}|${q.category}`;
  const hourly = new Map(held.hourly.map((h) => [hk(h), h]));
  for (const h of poll.hourly) hourly.set(hk(h), h);
  const daily = new Map(held.daily.map((h) => [hk(h), h]));
  for (const h of poll.daily) daily.set(hk(h), h);
  const quarantine = new Map(held.quarantine.map((q) => [qk(q), q]));
  for (const q of poll.quarantine) quarantine.set(qk(q), q);
  const seen = new Set(held.events.map((e) => e.id));
  return {
    ...poll,
    // Hours that aged past the hourly window stay as held (the next full load folds them into days).
    hourlyFrom: held.hourlyFrom,
    hourly: [...hourly.values()].sort((a, b) => a.bucket.localeCompare(b.bucket)),
    daily: [...daily.values()].sort((a, b) => a.bucket.localeCompare(b.bucket)),
    quarantine: [...quarantine.values()].sort((a, b) => a.bucket.localeCompare(b.bucket)),
    events: [...held.events, ...poll.events.filter((e) => !seen.has(e.id))],
  };
}

type Settings = { windows: WeeklyWindows | null; cap: number | null };

/**
 * When the migration could work, from its events: running between started/resumed and paused/completed, with the
 * settings then in force (a settings change records what was before and after).
 */
export function runningIntervals(d: Dashboard) {
  const plan = d.migration.plan;
  const firstChange = d.events.find((e) => e.type === "migration.settings_changed")?.payload as { before?: { windows: WeeklyWindows | null; bandwidth: { overallBytesPerSecond?: number } } } | undefined;
  let settings: Settings = firstChange?.before
    ? { windows: firstChange.before.windows, cap: firstChange.before.bandwidth?.overallBytesPerSecond ?? null }
    : { windows: plan.windows ?? null, cap: plan.bandwidth.overallBytesPerSecond ?? null };
  const changes: { at: number; settings: Settings }[] = [{ at: 0, settings }];
  const intervals: { from: number; to: number | null }[] = [];
  for (const e of d.events) {
    const at = Date.parse(e.createdAt);
    if (e.type === "migration.started" || e.type === "migration.resumed") {
      if (!intervals.length || intervals.at(-1)!.to !== null) intervals.push({ from: at, to: null });
    } else if ((e.type === "migration.paused" || e.type === "migration.completed") && intervals.length && intervals.at(-1)!.to === null) intervals.at(-1)!.to = at;
    else if (e.type === "migration.settings_changed") {
      const after = (e.payload as { after: { windows: WeeklyWindows | null; bandwidth: { overallBytesPerSecond?: number } } }).after;
      settings = { windows: after.windows, cap: after.bandwidth?.overallBytesPerSecond ?? null };
      changes.push({ at, settings });
    }
  }
  // Studies finished before any start event was recorded (an older engine): from the first bucket on.
  if (!intervals.length && d.hourly.length) intervals.push({ from: Date.parse(d.hourly[0]!.bucket), to: d.migration.status === "running" ? null : Date.parse(d.hourly.at(-1)!.bucket) + HOUR });
  const settingsAt = (t: number) => changes.filter((c) => c.at <= t).at(-1)!.settings;
  return { intervals, settingsAt };
}

/**
 * The hours the forecast samples: every hour the migration was running and inside its windows (zero when nothing
 * finished: a stall counts), with the cap then in force.
 */
export function workedHours(d: Dashboard, now: number, source?: string): HourSample[] {
  const { intervals, settingsAt } = runningIntervals(d);
  const done = new Map<number, { studies: number; bytes: number }>();
  for (const h of d.hourly) {
    if (source && h.source !== source) continue;
    const at = Date.parse(h.bucket);
    const cur = done.get(at) ?? { studies: 0, bytes: 0 };
    cur.studies += h.migrated + h.quarantined;
    cur.bytes += h.bytes;
    done.set(at, cur);
  }
  const current = Math.floor(now / HOUR) * HOUR;
  // Only the hourly window: older hours weigh next to nothing (half-life 24 worked hours) and are kept per day.
  const from = Date.parse(d.hourlyFrom);
  const samples: HourSample[] = [];
  const seen = new Set<number>();
  for (const iv of intervals) {
    for (let at = Math.max(from, Math.floor(iv.from / HOUR) * HOUR); at < Math.min(iv.to ?? now, current); at += HOUR) {
      if (seen.has(at)) continue;
      const s = settingsAt(at + HOUR / 2);
      // A partly worked hour (started or paused mid-hour) counts only if something finished in it.
      const partial = at < iv.from || (iv.to !== null && at + HOUR > iv.to);
      const got = done.get(at);
      if (!hourOpen(s.windows)(at) || (partial && !got)) continue;
      seen.add(at);
      samples.push({ at, studies: got?.studies ?? 0, bytes: got?.bytes ?? 0, capBytesPerSecond: s.cap });
    }
  }
  // The hour under way, scaled to a full hour once five minutes of it were worked: a migration started minutes
  // ago has a forecast from its first minutes rather than none.
  const last = intervals.at(-1);
  if (last && last.to === null && !seen.has(current) && hourOpen(settingsAt(now).windows)(current)) {
    const worked = now - Math.max(current, last.from);
    const got = done.get(current);
    if (worked >= 5 * 60_000) samples.push({ at: current, studies: ((got?.studies ?? 0) * HOUR) / worked, bytes: ((got?.bytes ?? 0) * HOUR) / worked, capBytesPerSecond: settingsAt(now).cap });
  }
  return samples;
}

export const remainingOf = (c: Dashboard["migration"]["counts"]) => c.pending + c.inFlight;

export type WhatIf = { capBytesPerSecond?: number | null; windows?: WeeklyWindows | null };

/** The forecast for the whole migration (or one source), under the current settings or a what-if. */
export function forecastFor(d: Dashboard, now: number, opts: { source?: string; whatIf?: WhatIf; runs?: number } = {}) {
  const plan = d.migration.plan;
  const windows = opts.whatIf && "windows" in opts.whatIf ? opts.whatIf.windows : (plan.windows ?? null);
  const cap = opts.whatIf && "capBytesPerSecond" in opts.whatIf ? opts.whatIf.capBytesPerSecond : (plan.bandwidth.overallBytesPerSecond ?? null);
  const remaining = opts.source
    ? d.breakdown.filter((b) => b.source === opts.source && (b.status === "pending" || b.status === "in_flight")).reduce((n, b) => n + b.studies, 0)
    : remainingOf(d.migration.counts);
  const history = workedHours(d, now, opts.source);
  return forecastFinish({ now, remainingStudies: remaining, history, isOpen: windows ? hourOpen(windows) : undefined, capBytesPerSecond: cap, runs: opts.runs ?? 1000, seed: 42 });
}

export function backtestFor(d: Dashboard, now: number) {
  const plan = d.migration.plan;
  const completed = d.events.find((e) => e.type === "migration.completed");
  return backtest({
    now,
    remainingStudies: remainingOf(d.migration.counts),
    history: workedHours(d, now),
    isOpen: plan.windows ? hourOpen(plan.windows) : undefined,
    capBytesPerSecond: plan.bandwidth.overallBytesPerSecond ?? null,
    finishedAt: completed ? Date.parse(completed.createdAt) : null,
    seed: 7,
  });
}

/** Remaining studies at the end of each hour (each day before the hourly window), back from now: the burn-down's observed part. */
export function burnDownObserved(d: Dashboard, now: number) {
  const perHour = new Map<number, number>();
  for (const h of [...d.daily, ...d.hourly]) perHour.set(Date.parse(h.bucket), (perHour.get(Date.parse(h.bucket)) ?? 0) + h.migrated + h.quarantined);
  const hours = [...perHour.keys()].sort((a, b) => a - b);
  let remaining = remainingOf(d.migration.counts);
  const points = [{ at: now, remaining }];
  const hourlyFrom = Date.parse(d.hourlyFrom);
  for (const at of hours.reverse()) {
    points.push({ at: Math.min(now, at + (at < hourlyFrom ? 24 * HOUR : HOUR)), remaining });
    remaining += perHour.get(at)!;
    points.push({ at, remaining });
  }
  return points.reverse();
}

/** Studies and bytes per hour, one key per source, for the throughput chart. */
export function throughputSeries(d: Dashboard) {
  const sources = [...new Set(d.hourly.map((h) => h.source))].sort();
  const byHour = new Map<string, Record<string, number | string>>();
  for (const h of d.hourly) {
    const row = byHour.get(h.bucket) ?? { bucket: h.bucket, bytes: 0 };
    row[h.source] = ((row[h.source] as number) ?? 0) + h.migrated;
    row.bytes = (row.bytes as number) + h.bytes;
    byHour.set(h.bucket, row);
  }
  return { sources, rows: [...byHour.values()].sort((a, b) => String(a.bucket).localeCompare(String(b.bucket))) };
}

/** Quarantine depth per category over time: entries minus exits, accumulated. */
export function quarantineDepth(d: Dashboard) {
  const categories = [...new Set(d.quarantine.map((q) => q.category))].sort();
  const depth: Record<string, number> = Object.fromEntries(categories.map((c) => [c, 0]));
  const buckets = [...new Set(d.quarantine.map((q) => q.bucket))].sort();
  const rows = buckets.map((bucket) => {
    for (const q of d.quarantine.filter((x) => x.bucket === bucket)) depth[q.category]! += q.entered - q.left;
    return { bucket, ...depth } as Record<string, string | number>;
  });
  return { categories, rows, current: { ...depth } };
}

export type BreakdownKey = "source" | "modality" | "studyYear";

/** Done (migrated, quarantined, skipped) vs remaining per source, modality or study year. */
export function breakdownBy(d: Dashboard, key: BreakdownKey) {
  const rows = new Map<string, { name: string; done: number; remaining: number }>();
  for (const b of d.breakdown) {
    const name = b[key] || "(none)";
    const row = rows.get(name) ?? { name, done: 0, remaining: 0 };
    if (b.status === "pending" || b.status === "in_flight") row.remaining += b.studies;
    else row.done += b.studies;
    rows.set(name, row);
  }
  return [...rows.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The rate over the last full hours worked (studies/hour). */
export function currentRate(d: Dashboard, now: number) {
  const recent = workedHours(d, now).slice(-3);
  return recent.length ? recent.reduce((n, h) => n + h.studies, 0) / recent.length : 0;
}
