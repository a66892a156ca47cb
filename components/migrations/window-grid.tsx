"use client";

import type { WeeklyWindows } from "@/lib/forecast";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Grid = boolean[][]; // [day][hour]

/** The hours an interval list opens, day by day (an end before its start runs into the next day). */
export function gridOf(windows: WeeklyWindows | null | undefined): Grid {
  const grid = DAYS.map(() => Array<boolean>(24).fill(!windows));
  if (!windows) return grid;
  for (const w of windows.intervals) {
    const start = Number(w.start.slice(0, 2));
    const end = Number(w.end.slice(0, 2)) + (Number(w.end.slice(3, 5)) > 0 ? 1 : 0);
    const hours = end > start ? end - start : 24 - start + end;
    for (const day of w.days) {
      const d = DAYS.indexOf(day as (typeof DAYS)[number]);
      for (let h = 0; h < hours; h++) grid[(d + Math.floor((start + h) / 24)) % 7]![(start + h) % 24] = true;
    }
  }
  return grid;
}

/** Intervals from the grid: each day's runs of open hours (a run to midnight ends at 00:00). All open: null. */
export function windowsOf(grid: Grid, timeZone: string): WeeklyWindows | null {
  if (grid.every((d) => d.every(Boolean))) return null;
  const intervals: WeeklyWindows["intervals"] = [];
  const hh = (h: number) => `${String(h % 24).padStart(2, "0")}:00`;
  grid.forEach((hours, d) => {
    for (let h = 0; h < 24; h++) {
      if (!hours[h] || (h > 0 && hours[h - 1])) continue;
      let end = h;
      while (end < 24 && hours[end]) end++;
      intervals.push({ days: [DAYS[d]!], start: hh(h), end: hh(end) });
    }
  });
  return { timeZone, intervals };
}

/** A weekly grid of hours: click or drag across cells to open or close them. */
export function WindowGrid({ grid, onChange, disabled }: { grid: Grid; onChange: (g: Grid) => void; disabled?: boolean }) {
  const toggle = (d: number, h: number) => onChange(grid.map((row, i) => (i === d ? row.map((v, j) => (j === h ? !v : v)) : row)));
  return (
    <table className="border-collapse text-[10px]" data-testid="window-grid" aria-label="Weekly windows">
      <thead>
        <tr>
          <th />
          {Array.from({ length: 24 }, (_, h) => (
            <th key={h} className="w-4 font-normal text-slate-500">{h % 3 === 0 ? h : ""}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {DAYS.map((day, d) => (
          <tr key={day}>
            <th className="pr-1 text-left font-normal capitalize text-slate-600">{day}</th>
            {grid[d]!.map((open, h) => (
              <td key={h} className="p-0">
                <button
                  type="button"
                  disabled={disabled}
                  aria-label={`${day} ${h}:00 ${open ? "open" : "closed"}`}
                  aria-pressed={open}
                  data-cell={`${day}-${h}`}
                  onClick={() => toggle(d, h)}
                  className={`block h-4 w-4 border border-white dark:border-slate-900 ${open ? "bg-emerald-500" : "bg-slate-200 dark:bg-slate-700"}`}
                />
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
