import { describe, expect, it } from "vitest";
import { windowOpen } from "../windows";

// Weeknights 19:00–06:00 and all weekend, in Berlin (UTC+1 in January, UTC+2 in July).
const windows = {
  timeZone: "Europe/Berlin",
  intervals: [
    { days: ["mon", "tue", "wed", "thu", "fri"] as ("mon" | "tue" | "wed" | "thu" | "fri")[], start: "19:00", end: "06:00" },
    { days: ["sat", "sun"] as ("sat" | "sun")[], start: "00:00", end: "23:59" },
  ],
};

describe("migration windows", () => {
  it.each([
    ["2026-01-14T17:59:00Z", false, "Wednesday 18:59 Berlin"],
    ["2026-01-14T18:00:00Z", true, "Wednesday 19:00 Berlin"],
    ["2026-01-15T04:59:00Z", true, "Thursday 05:59 Berlin, the night from Wednesday"],
    ["2026-01-15T05:00:00Z", false, "Thursday 06:00 Berlin"],
    ["2026-01-15T12:00:00Z", false, "Thursday 13:00 Berlin"],
    ["2026-01-17T12:00:00Z", true, "Saturday 13:00 Berlin"],
    ["2026-01-19T04:00:00Z", false, "Monday 05:00 Berlin: Sunday has no overnight interval"],
    ["2026-07-15T16:30:00Z", false, "Wednesday 18:30 Berlin in summer time"],
    ["2026-07-15T17:00:00Z", true, "Wednesday 19:00 Berlin in summer time"],
  ])("%s → %s (%s)", (iso, open) => {
    expect(windowOpen(windows, new Date(iso))).toBe(open);
  });
  it("no windows means always", () => expect(windowOpen(undefined, new Date())).toBe(true));
});
