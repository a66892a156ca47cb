"use client";

import { useMemo, useState } from "react";
import type { Finish } from "@/lib/forecast";
import { forecastFor, type Dashboard } from "@/lib/migrations/dashboard-model";
import { when } from "./charts";
import { gridOf, WindowGrid, windowsOf } from "./window-grid";

const delta = (a: number | null, b: number | null) => (a === null || b === null ? "" : ` (${a < b ? "−" : "+"}${Math.round(Math.abs(a - b) / 86_400_000 * 10) / 10} d)`);

/** The forecast re-run for another cap or window schedule, before anyone changes the real settings. */
export function WhatIfPanel({ data, now, current }: { data: Dashboard; now: number; current: Finish }) {
  const plan = data.migration.plan;
  const [cap, setCap] = useState(plan.bandwidth.overallBytesPerSecond ? String(plan.bandwidth.overallBytesPerSecond / 1e6) : "");
  const [grid, setGrid] = useState(() => gridOf(plan.windows));
  const timeZone = plan.windows?.timeZone ?? "UTC";
  const capBps = cap.trim() === "" ? null : Number(cap) > 0 ? Number(cap) * 1e6 : undefined;
  const f = useMemo(
    () => (capBps === undefined ? null : forecastFor(data, now, { whatIf: { capBytesPerSecond: capBps, windows: windowsOf(grid, timeZone) } }).finish),
    [data, now, capBps, grid, timeZone],
  );
  return (
    <section className="space-y-2 rounded-lg border border-slate-200 p-4 dark:border-slate-800" data-testid="what-if">
      <h2 className="text-sm font-medium text-slate-600 dark:text-slate-400">What if…</h2>
      <label className="flex items-center gap-2 text-xs text-slate-600 dark:text-slate-400">
        cap (MB/s, empty: none)
        <input value={cap} onChange={(e) => setCap(e.target.value)} className="w-24 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700" data-testid="what-if-cap" />
      </label>
      <WindowGrid grid={grid} onChange={setGrid} />
      {f ? (
        <p className="text-sm" data-testid="what-if-result">
          P50 {f.p50 ? when(f.p50) : "no finish in sight"}{delta(f.p50, current.p50)} · P85 {f.p85 ? when(f.p85) : "—"} · P95 {f.p95 ? when(f.p95) : "—"}
        </p>
      ) : (
        <p className="text-sm text-red-700">A cap is a positive number of MB/s, or empty for none.</p>
      )}
    </section>
  );
}
