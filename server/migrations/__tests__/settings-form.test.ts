import { describe, expect, it } from "vitest";
import { SettingsForm } from "../service";

const valid = { windows: "", overallCap: "", perSourceCap: "2.5", priority: "60", concurrency: "4" };

describe("the control panel's settings form", () => {
  it("MB/s become bytes per second, empty caps and windows mean none", () => {
    expect(SettingsForm.parse(valid)).toEqual({ windows: null, overallCap: null, perSourceCap: 2_500_000, priority: 60, concurrency: 4 });
    const windows = JSON.stringify({ timeZone: "Europe/Berlin", intervals: [{ days: ["sat", "sun"], start: "00:00", end: "00:00" }] });
    expect(SettingsForm.parse({ ...valid, windows }).windows).toEqual(JSON.parse(windows));
  });

  it("refuses bad values with messages per field", () => {
    const r = SettingsForm.safeParse({ windows: JSON.stringify({ timeZone: "Mars/Olympus", intervals: [] }), overallCap: "-3", perSourceCap: "fast", priority: "101", concurrency: "40" });
    expect(r.success).toBe(false);
    const fields = JSON.stringify(r.error!.issues.map((i) => [i.path.join("."), i.message]));
    for (const m of ["IANA time zone", "positive number of MB/s", "Priority is 0..100", "At most 16 workers"]) expect(fields).toContain(m);
  });
});
