import { describe, expect, it } from "vitest";
import { planDiff } from "../plan-diff";

const plan = {
  name: "PACS to VNA",
  sources: [{ kind: "dicom", id: "pacs", aeTitle: "PACS", host: "10.0.0.5", port: 104 }],
  filters: { studyDateFrom: "2020-01-01", studyDateTo: "2024-12-31", modalities: ["CT", "MR"] },
  transforms: [] as unknown[],
};

describe("planDiff", () => {
  it("names each changed field with both values, and nothing else", () => {
    const next = structuredClone(plan);
    next.sources[0]!.port = 11112;
    next.filters.modalities = ["CT"];
    next.transforms = [{ op: "set", tag: "00081030", value: "MIGRATED" }];
    expect(planDiff(plan, next)).toEqual([
      { path: "filters.modalities", before: '["CT","MR"]', after: '["CT"]' },
      { path: "sources.0.port", before: "104", after: "11112" },
      { path: "transforms", before: "[]", after: null },
      { path: "transforms.0.op", before: null, after: '"set"' },
      { path: "transforms.0.tag", before: null, after: '"00081030"' },
      { path: "transforms.0.value", before: null, after: '"MIGRATED"' },
    ]);
  });

  it("an identical plan has no changes; a first version lists every field as new", () => {
    expect(planDiff(plan, structuredClone(plan))).toEqual([]);
    const all = planDiff(null, plan);
    expect(all.every((c) => c.before === null)).toBe(true);
    expect(all.map((c) => c.path)).toContain("sources.0.host");
  });
});
