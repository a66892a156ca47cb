// The plan form's state: everything as the person typed it (text), so nothing is lost when a save is refused. The
// server turns it into a plan (server/migrations/plans.ts planFromDraft) and the engine contract judges it.
import type { MigrationPlan } from "@/engine/api/contract";

export type DraftSource =
  | { kind: "dicom"; id: string; aeTitle: string; host: string; port: string; callingAeTitle: string; retrieve: string; findLimit: string }
  | { kind: "filesystem"; id: string; path: string };
export type DraftTarget = { kind: "dicom"; aeTitle: string; host: string; port: string; callingAeTitle: string; retrieve: string } | { kind: "stow-rs"; url: string };
export type DraftRule = { op: "set" | "remove" | "map" | "remove-private"; tag: string; value: string; values: string; groups: string; creators: string; sources: string; modalities: string };
export type Draft = {
  name: string;
  sources: DraftSource[];
  target: DraftTarget;
  filters: { studyDateFrom: string; studyDateTo: string; modalities: string };
  windows: MigrationPlan["windows"] | null;
  overallCap: string;
  perSourceCap: string;
  priority: string;
  concurrency: string;
  rules: DraftRule[];
  anonymize: boolean;
};

export const newDicomSource = (n: number): DraftSource => ({ kind: "dicom", id: `source-${n}`, aeTitle: "", host: "", port: "104", callingAeTitle: "", retrieve: "c-get", findLimit: "0" });
export const newFolderSource = (n: number): DraftSource => ({ kind: "filesystem", id: `source-${n}`, path: "" });
export const newRule = (): DraftRule => ({ op: "set", tag: "", value: "", values: "", groups: "", creators: "", sources: "", modalities: "" });

export const emptyDraft = (): Draft => ({
  name: "",
  sources: [newDicomSource(1)],
  target: { kind: "dicom", aeTitle: "", host: "", port: "104", callingAeTitle: "", retrieve: "c-get" },
  filters: { studyDateFrom: "", studyDateTo: "", modalities: "" },
  windows: null,
  overallCap: "",
  perSourceCap: "",
  priority: "50",
  concurrency: "2",
  rules: [],
  anonymize: false,
});

const mb = (bps: number | undefined) => (bps ? String(bps / 1_000_000) : "");
const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");

/** A saved plan as the form's draft (the edit page starts from the version in force). */
export function draftOf(plan: MigrationPlan): Draft {
  return {
    name: plan.name,
    sources: plan.sources.map((s) =>
      s.kind === "dicom"
        ? { kind: "dicom", id: s.id, aeTitle: s.aeTitle, host: s.host, port: String(s.port), callingAeTitle: s.callingAeTitle, retrieve: s.retrieve, findLimit: String(s.findLimit) }
        : { kind: "filesystem", id: s.id, path: s.path },
    ),
    target: plan.target.kind === "dicom" ? { ...plan.target, port: String(plan.target.port) } : { kind: "stow-rs", url: "url" in plan.target ? plan.target.url : "" },
    filters: { studyDateFrom: plan.filters.studyDateFrom, studyDateTo: plan.filters.studyDateTo, modalities: plan.filters.modalities.join(", ") },
    windows: plan.windows ?? null,
    overallCap: mb(plan.bandwidth.overallBytesPerSecond),
    perSourceCap: mb(plan.bandwidth.perSourceBytesPerSecond),
    priority: String(plan.priority),
    concurrency: String(plan.concurrency),
    rules: plan.transforms.flatMap((r): DraftRule[] => {
      if (r.op === "anonymize") return [];
      const scope = { sources: r.sources?.join(", ") ?? "", modalities: r.modalities?.join(", ") ?? "" };
      if (r.op === "set") return [{ ...newRule(), ...scope, op: "set", tag: r.tag, value: r.value }];
      if (r.op === "remove") return [{ ...newRule(), ...scope, op: "remove", tag: r.tag }];
      if (r.op === "map") return [{ ...newRule(), ...scope, op: "map", tag: r.tag, values: Object.entries(r.values).map(([a, b]) => `${a}=${b}`).join("\n") }];
      return [{ ...newRule(), ...scope, op: "remove-private", groups: (r.groups ?? []).map(hex).join(", "), creators: (r.creators ?? []).join("\n") }];
    }),
    anonymize: plan.transforms.some((r) => r.op === "anonymize"),
  };
}
