// Before/after of an audit entry as rows of changed leaves, for the entry detail.
export type DiffRow = { path: string; before: unknown; after: unknown; changed: boolean };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Flattens both sides to leaf paths (`a.b`, `list[0]`) and pairs them; unchanged leaves are kept, marked. */
export function jsonDiff(before: unknown, after: unknown): DiffRow[] {
  const leaves = new Map<string, { before?: unknown; after?: unknown }>();
  const walk = (v: unknown, path: string, side: "before" | "after") => {
    if (isObject(v) && Object.keys(v).length) for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k, side);
    else if (Array.isArray(v) && v.length) v.forEach((x, i) => walk(x, `${path}[${i}]`, side));
    else leaves.set(path, { ...leaves.get(path), [side]: v });
  };
  if (before !== null && before !== undefined) walk(before, "", "before");
  if (after !== null && after !== undefined) walk(after, "", "after");
  return [...leaves.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, v]) => ({ path: path || "(value)", before: v.before, after: v.after, changed: JSON.stringify(v.before) !== JSON.stringify(v.after) }));
}
