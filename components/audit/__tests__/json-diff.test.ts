import { describe, expect, it } from "vitest";
import { jsonDiff } from "../json-diff";

describe("jsonDiff", () => {
  it("pairs leaves of both sides and marks what changed", () => {
    const rows = jsonDiff({ ttlDays: 7, titles: ["A"], keep: { x: 1 } }, { ttlDays: 9, titles: ["A", "B"], keep: { x: 1 } });
    expect(rows).toEqual([
      { path: "keep.x", before: 1, after: 1, changed: false },
      { path: "titles[0]", before: "A", after: "A", changed: false },
      { path: "titles[1]", before: undefined, after: "B", changed: true },
      { path: "ttlDays", before: 7, after: 9, changed: true },
    ]);
  });
  it("handles a side that is absent and plain values", () => {
    expect(jsonDiff(null, { a: 1 })).toEqual([{ path: "a", before: undefined, after: 1, changed: true }]);
    expect(jsonDiff(null, null)).toEqual([]);
    expect(jsonDiff("x", "y")).toEqual([{ path: "(value)", before: "x", after: "y", changed: true }]);
  });
});
