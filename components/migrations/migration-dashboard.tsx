"use client";

import Link from "next/link";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { hourOpen } from "@/lib/forecast";
import {
  backtestFor,
  breakdownBy,
  burnDownObserved,
  currentRate,
  forecastFor,
  mergeDashboard,
  quarantineDepth,
  remainingOf,
  throughputSeries,
  type BreakdownKey,
  type Dashboard,
} from "@/lib/migrations/dashboard-model";
import { BreakdownChart, BurnDownChart, QuarantineChart, ThroughputChart, when } from "./charts";
import { WhatIfPanel } from "./what-if";

const POLL_MS = 3000;
const HOUR = 3_600_000;

const finishText = (t: number | null | undefined) => (t === null || t === undefined ? "no finish in sight" : when(t));

/** Open stretches of the schedule between two instants (for shading the throughput chart). */
function openStretches(d: Dashboard, from: number, to: number) {
  if (!d.migration.plan.windows) return [];
  const open = hourOpen(d.migration.plan.windows);
  const out: { from: number; to: number }[] = [];
  for (let at = Math.floor(from / HOUR) * HOUR; at <= to; at += HOUR) {
    if (!open(at)) continue;
    if (out.length && out.at(-1)!.to === at) out.at(-1)!.to = at + HOUR;
    else out.push({ from: at, to: at + HOUR });
  }
  return out;
}

function Section({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <section className="rounded-lg border border-slate-200 p-4 dark:border-slate-800" data-testid={testId}>
      <h2 className="mb-2 text-sm font-medium text-slate-600 dark:text-slate-400">{title}</h2>
      {children}
    </section>
  );
}

/** The live dashboard: held figures merged with a since-poll every few seconds; forecasts recomputed here. */
export function MigrationDashboard({ slug, initial, control, checkpoints }: { slug: string; initial: Dashboard; control?: ReactNode; checkpoints?: ReactNode }) {
  const [data, setData] = useState(initial);
  const [now, setNow] = useState(() => Date.parse(initial.asOf));
  const [view, setView] = useState<BreakdownKey>("source");
  const held = useRef(initial);
  const id = initial.migration.id;

  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      try {
        const res = await fetch(`/api/t/${slug}/migrations/${id}/dashboard?since=${encodeURIComponent(held.current.asOf)}`, { cache: "no-store" });
        if (!res.ok || stopped) return;
        const merged = mergeDashboard(held.current, (await res.json()) as Dashboard);
        held.current = merged;
        setData(merged);
        setNow(Date.parse(merged.asOf));
      } catch {
        // offline for a moment: the next tick tries again
      }
    };
    const t = setInterval(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [slug, id]);

  const m = data.migration;
  const forecast = useMemo(() => forecastFor(data, now), [data, now]);
  const sources = useMemo(() => m.plan.sources.map((s) => ({ id: s.id, f: forecastFor(data, now, { source: s.id, runs: 400 }) })), [data, now, m.plan.sources]);
  const backtest = useMemo(() => backtestFor(data, now), [data, now]);
  const observed = useMemo(() => burnDownObserved(data, now), [data, now]);
  const throughput = useMemo(() => throughputSeries(data), [data]);
  const quarantine = useMemo(() => quarantineDepth(data), [data]);
  const first = throughput.rows[0] ? Date.parse(String(throughput.rows[0].bucket)) : now;
  const done = m.counts.migrated + m.counts.quarantined + m.counts.skipped;
  const pct = m.counts.discovered ? Math.floor((done / m.counts.discovered) * 100) : 0;
  const state = m.status === "running" && !data.windowOpenNow ? "outside window" : m.status === "completed" ? "finished" : m.status;

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-4 text-sm" data-testid="summary">
        <span className="rounded bg-slate-100 px-2 py-0.5 dark:bg-slate-800" data-testid="state">{state}</span>
        <span data-testid="progress">{pct} % · {done} of {m.counts.discovered} studies done · {remainingOf(m.counts)} remaining</span>
        <span data-testid="migrated-count">migrated {m.counts.migrated}</span>
        <span>quarantined {m.counts.quarantined} · skipped {m.counts.skipped}</span>
        <span data-testid="rate">{Math.round(currentRate(data, now))} studies/h now</span>
        <span className="text-xs text-slate-500" data-testid="as-of">as of {when(now)} UTC</span>
      </div>
      <div className="h-2 w-full rounded bg-slate-200 dark:bg-slate-800"><div className="h-2 rounded bg-emerald-600" style={{ width: `${pct}%` }} /></div>

      <Section title="Burn-down: remaining studies, with the forecast P50 and its P10–P90 band" testId="burn-down">
        <BurnDownChart observed={observed} band={forecast.band} />
      </Section>

      <div className="grid gap-4 lg:grid-cols-2">
        <Section title="Finish date (UTC)" testId="eta">
          <table className="w-full text-left text-sm">
            <thead className="text-slate-500"><tr><th>Scope</th><th>P50</th><th>P85</th><th>P95</th></tr></thead>
            <tbody>
              <tr data-testid="eta-overall"><td>Overall</td><td>{finishText(forecast.finish.p50)}</td><td>{finishText(forecast.finish.p85)}</td><td>{finishText(forecast.finish.p95)}</td></tr>
              {sources.map((s) => (
                <tr key={s.id} data-testid="eta-source"><td>{s.id}</td><td>{finishText(s.f.finish.p50)}</td><td>{finishText(s.f.finish.p85)}</td><td>{finishText(s.f.finish.p95)}</td></tr>
              ))}
            </tbody>
          </table>
          <p className="mt-2 text-xs text-slate-500">{forecast.runs} runs over {forecast.samples} worked hours (recent hours weigh more); only window hours count, under the current cap.</p>
        </Section>
        <Section title="How far off was the forecast? (back-test)" testId="backtest">
          {backtest.length === 0 ? (
            <p className="text-sm text-slate-500">Not enough history yet: a back-test needs forecasts made at least a day ago.</p>
          ) : (
            <table className="w-full text-left text-sm">
              <thead className="text-slate-500"><tr><th>Made</th><th>Said done by now (P50)</th><th>Actually done</th><th>Error</th></tr></thead>
              <tbody>
                {backtest.map((b) => (
                  <tr key={b.daysAgo}><td>{b.daysAgo} d ago</td><td>{b.predictedDone}</td><td>{b.actualDone}</td><td>{b.doneError === null ? "—" : `${b.doneError > 0 ? "+" : ""}${Math.round(b.doneError * 100)} %`}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
      </div>

      <Section title="Throughput per source, hourly over the last five weeks (windows shaded)" testId="throughput">
        <ThroughputChart rows={throughput.rows} sources={throughput.sources} open={openStretches(data, first - HOUR, now + HOUR)} />
      </Section>

      <div className="grid gap-4 lg:grid-cols-2">
        <Section title="Breakdown: done vs remaining" testId="breakdown">
          <div className="mb-2 flex gap-2 text-xs" role="tablist">
            {(["source", "modality", "studyYear"] as const).map((k) => (
              <button key={k} type="button" role="tab" aria-selected={view === k} onClick={() => setView(k)} className={`rounded px-2 py-0.5 ${view === k ? "bg-sky-700 text-white" : "bg-slate-100 dark:bg-slate-800"}`}>
                {k === "studyYear" ? "study year" : k}
              </button>
            ))}
          </div>
          <BreakdownChart rows={breakdownBy(data, view)} />
        </Section>
        <Section title="Quarantine depth by category" testId="quarantine-depth">
          {quarantine.categories.length === 0 ? <p className="text-sm text-slate-500">Nothing quarantined.</p> : <QuarantineChart rows={quarantine.rows} categories={quarantine.categories} />}
          <ul className="mt-2 flex flex-wrap gap-3 text-sm">
            {quarantine.categories.map((c) => (
              <li key={c}>
                <Link className="text-sky-700 underline" href={`/t/${slug}/quarantine?category=${encodeURIComponent(c)}`}>{c.replaceAll("_", " ")}: {quarantine.current[c]}</Link>
              </li>
            ))}
          </ul>
        </Section>
      </div>

      <WhatIfPanel data={data} now={now} current={forecast.finish} />
      {control}
      {checkpoints}

      <Section title="Notable events" testId="events">
        <ul className="space-y-1 text-sm">
          {[...data.events].reverse().slice(0, 30).map((e) => (
            <li key={e.id} data-testid="event"><span className="text-slate-500">{when(Date.parse(e.createdAt))}</span> {e.type.replace("migration.", "").replaceAll("_", " ")}{"changedBy" in e.payload ? ` by ${(e.payload.changedBy as { name: string }).name}` : ""}</li>
          ))}
        </ul>
      </Section>

      <Section title="Closeout evidence" testId="closeout">
        <p className="mb-2 text-sm text-slate-600 dark:text-slate-400">Reconciliation (the source and the target inventoried again and compared with the engine's records, each difference named; the last run, or{" "}<a className="text-sky-700 underline" href={`/api/t/${slug}/migrations/${id}/closeout?part=reconciliation&format=json&run=1`} download>run it now</a>) and the verification report (per instance, the hashes and each study's record hash).</p>
        <div className="flex flex-wrap gap-3 text-sm">
          {(["reconciliation", "verification"] as const).flatMap((part) =>
            (["csv", "json"] as const).map((format) => (
              <a key={part + format} className="text-sky-700 underline" href={`/api/t/${slug}/migrations/${id}/closeout?part=${part}&format=${format}`} download>
                {part} ({format.toUpperCase()})
              </a>
            )),
          )}
        </div>
      </Section>
    </div>
  );
}
