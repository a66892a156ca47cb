// Slicing against an archive that caps its answers (the archive here is a list with the cap applied the way a
// real one does: silently). The real-archive test is in migration-orthanc.test.ts.
import { describe, expect, it } from "vitest";
import type { FindResult } from "../../dicom/scu";
import { discoverStudies, DiscoveryError, type FindQuery } from "../discovery";

function archive(studies: { uid: string; date: string; time: string; modality: string }[], cap: number) {
  const queries: FindQuery[] = [];
  const inRange = (v: string, range: string) => {
    const [a, b] = range.includes("-") ? range.split("-") : [range, range];
    return v >= a! && v <= b!;
  };
  const find = async (q: FindQuery): Promise<FindResult> => {
    queries.push(q);
    const matches = studies
      .filter((s) => inRange(s.date, q.StudyDate) && (!q.StudyTime || inRange(s.time, q.StudyTime)) && (!q.ModalitiesInStudy || s.modality === q.ModalitiesInStudy))
      .slice(0, cap || undefined)
      .map((s) => ({ studyInstanceUid: s.uid, studyDate: s.date, modalities: [s.modality], patientId: null, instances: 1 }));
    return { matches, truncated: false }; // capped silently, as some archives do
  };
  return { find, queries };
}

describe("discovery", () => {
  const studies = Array.from({ length: 500 }, (_, i) => ({
    uid: `1.2.3.${i}`,
    date: `2024${String(1 + (i % 12)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}`,
    time: `${String(i % 24).padStart(2, "0")}${String(i % 60).padStart(2, "0")}00`,
    modality: ["CT", "MR", "SR"][i % 3]!,
  }));

  it("finds every study however small the archive's cap, by splitting the slices that reach it", async () => {
    for (const cap of [0, 100, 7]) {
      const a = archive(studies, cap);
      const found = await discoverStudies({ range: { from: "2024-01-01", to: "2024-12-31" }, modalities: [], cap, find: a.find });
      expect(found.map((s) => s.studyInstanceUid).sort()).toEqual(studies.map((s) => s.uid).sort());
      // one for the range, one for studies without a valid StudyDate
      if (cap === 0) expect(a.queries).toHaveLength(2);
    }
  });

  it("walks each modality of the plan, and splits one crowded day by time", async () => {
    const crowded = Array.from({ length: 40 }, (_, i) => ({ uid: `9.${i}`, date: "20240305", time: `${String(i % 24).padStart(2, "0")}${String((i * 7) % 60).padStart(2, "0")}00`, modality: "CT" }));
    const a = archive([...studies, ...crowded], 10);
    const found = await discoverStudies({ range: { from: "2024-03-01", to: "2024-03-31" }, modalities: ["CT"], cap: 10, find: a.find });
    const expected = [...studies, ...crowded].filter((s) => s.modality === "CT" && s.date >= "20240301" && s.date <= "20240331");
    expect(found.map((s) => s.studyInstanceUid).sort()).toEqual(expected.map((s) => s.uid).sort());
    expect(a.queries.some((q) => q.StudyTime)).toBe(true);
  });

  it("says so when even one minute holds more than the cap, and refuses a reversed range", async () => {
    const same = Array.from({ length: 5 }, (_, i) => ({ uid: `7.${i}`, date: "20240101", time: "101500", modality: "CT" }));
    await expect(discoverStudies({ range: { from: "2024-01-01", to: "2024-01-01" }, modalities: [], cap: 3, find: archive(same, 3).find })).rejects.toThrow(DiscoveryError);
    await expect(discoverStudies({ range: { from: "2024-02-01", to: "2024-01-01" }, modalities: [], cap: 0, find: archive(same, 0).find })).rejects.toThrow(/ends .* before it starts/);
  });
});
