// What changed between two versions of a migration plan, field by field, so an approver reads the change rather
// than two whole plans. Paths are the plan's own (`sources.0.port`, `filters.modalities`, `transforms.1.value`).
export type PlanChange = { path: string; before: string | null; after: string | null };

function flatten(v: unknown, prefix: string, out: Map<string, string>) {
  if (v !== null && typeof v === "object" && !(Array.isArray(v) && v.every((x) => x === null || typeof x !== "object"))) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
    if (!Object.keys(v as object).length) out.set(prefix, Array.isArray(v) ? "[]" : "{}");
  } else if (v !== undefined) out.set(prefix, JSON.stringify(v));
}

/** Leaf values that differ; a list of plain values (modalities, a window's hours) is one field. */
export function planDiff(before: unknown, after: unknown): PlanChange[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  if (before !== null && before !== undefined) flatten(before, "", a);
  flatten(after, "", b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x.localeCompare(y, "en", { numeric: true }));
  return paths.filter((p) => a.get(p) !== b.get(p)).map((p) => ({ path: p, before: a.get(p) ?? null, after: b.get(p) ?? null }));
}
