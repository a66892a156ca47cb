import { describe, expect, it } from "vitest";
import { hourOpen } from "@/lib/forecast";
import { gridOf, windowsOf } from "../window-grid";

describe("weekly window grid", () => {
  it("an overnight interval fills into the next morning, and the grid gives back intervals the engine opens the same hours for", () => {
    const windows = { timeZone: "UTC", intervals: [{ days: ["fri"], start: "19:00", end: "06:00" }, { days: ["sun"], start: "00:00", end: "00:00" }] };
    const grid = gridOf(windows);
    expect(grid[4]!.slice(18, 24)).toEqual([false, true, true, true, true, true]); // Friday from 19:00
    expect(grid[5]!.slice(0, 7)).toEqual([true, true, true, true, true, true, false]); // Saturday until 06:00
    expect(grid[6]!.every(Boolean)).toBe(true); // all Sunday
    const back = windowsOf(grid, "UTC")!;
    const week = Date.UTC(2026, 0, 5); // a Monday
    for (let h = 0; h < 7 * 24; h++) expect(hourOpen(back)(week + h * 3_600_000), `hour ${h}`).toBe(hourOpen(windows)(week + h * 3_600_000));
  });

  it("all open is no windows; nothing open is a schedule that never runs", () => {
    expect(windowsOf(gridOf(null), "UTC")).toBeNull();
    expect(windowsOf(gridOf(null).map((d) => d.map(() => false)), "UTC")).toEqual({ timeZone: "UTC", intervals: [] });
  });
});
