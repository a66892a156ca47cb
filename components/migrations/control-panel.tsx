"use client";

import { useActionState, useState, useTransition } from "react";
import type { MigrationPlan } from "@/engine/api/contract";
import type { ActionResult } from "@/server/action-result";
import { gridOf, WindowGrid, windowsOf } from "./window-grid";

type Props = {
  status: string;
  plan: MigrationPlan;
  pause: () => Promise<ActionResult>;
  resume: () => Promise<ActionResult>;
  save: (prev: unknown, form: FormData) => Promise<ActionResult>;
};

const mbps = (bps: number | undefined) => (bps ? String(bps / 1_000_000) : "");
const input = "mt-1 w-28 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700";

/** Pause, resume and the settings an engineer may change while the migration runs (each a server action, audited). */
export function ControlPanel({ status, plan, pause, resume, save }: Props) {
  const [pending, start] = useTransition();
  const [result, setResult] = useState<ActionResult | null>(null);
  const [state, action, saving] = useActionState(save, null);
  const [grid, setGrid] = useState(() => gridOf(plan.windows));
  const [timeZone, setTimeZone] = useState(plan.windows?.timeZone ?? "UTC");
  const windows = windowsOf(grid, timeZone);
  const field = (k: string) => (state && !state.ok ? state.fields?.[k]?.[0] : undefined);
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label="Control" data-testid="control-panel">
      <h2 className="font-medium">Control</h2>
      <div className="flex items-center gap-2">
        {status === "running" && (
          <button type="button" disabled={pending} onClick={() => start(async () => setResult(await pause()))} className="rounded-md bg-amber-600 px-3 py-1.5 text-sm text-white disabled:opacity-50">
            Pause
          </button>
        )}
        {status === "paused" && (
          <button type="button" disabled={pending} onClick={() => start(async () => setResult(await resume()))} className="rounded-md bg-emerald-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">
            Resume
          </button>
        )}
        {result && <span role={result.ok ? "status" : "alert"} className={result.ok ? "text-sm text-slate-600" : "text-sm text-red-700"}>{result.message}</span>}
      </div>
      <form action={action} className="space-y-3">
        <input type="hidden" name="windows" value={windows ? JSON.stringify(windows) : ""} />
        <div className="flex flex-wrap items-end gap-3">
          <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
            Overall cap (MB/s, empty: none)
            <input name="overallCap" defaultValue={mbps(plan.bandwidth.overallBytesPerSecond)} inputMode="decimal" className={input} />
          </label>
          <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
            Per-source cap (MB/s)
            <input name="perSourceCap" defaultValue={mbps(plan.bandwidth.perSourceBytesPerSecond)} inputMode="decimal" className={input} />
          </label>
          <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
            Priority (0–100)
            <input name="priority" defaultValue={plan.priority} inputMode="numeric" className={input} />
          </label>
          <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
            Workers
            <input name="concurrency" defaultValue={plan.concurrency} inputMode="numeric" className={input} />
          </label>
        </div>
        <div className="space-y-1">
          <label className="flex items-center gap-2 text-xs text-slate-600 dark:text-slate-400">
            Windows, time zone
            <input value={timeZone} onChange={(e) => setTimeZone(e.target.value)} name="timeZone" className={input} />
            <button type="button" className="underline" onClick={() => setGrid(gridOf(null))}>open all</button>
          </label>
          <WindowGrid grid={grid} onChange={setGrid} />
          <p className="text-xs text-slate-500">{windows ? `${windows.intervals.length} interval(s) in ${timeZone}` : "No windows: runs at any time."}</p>
        </div>
        <button type="submit" disabled={saving} className="rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Save settings</button>
        {state && (
          <p role={state.ok ? "status" : "alert"} className={state.ok ? "text-sm text-slate-600" : "text-sm text-red-700"} data-testid="settings-result">
            {state.ok ? state.message : (field("overallCap") ?? field("perSourceCap") ?? field("priority") ?? field("concurrency") ?? field("windows") ?? state.message)}
          </p>
        )}
      </form>
    </section>
  );
}
