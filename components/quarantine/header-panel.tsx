"use client";

import { useMemo, useState } from "react";

type Element = { tag: string; path: string; name: string; vr: string; value: string; problem?: string };

const fmt = (tag: string) => `(${tag.slice(0, 4)},${tag.slice(4)})`;

/** Every element of one instance, searchable by tag, name or value; elements with a problem are highlighted. */
export function HeaderPanel({ elements, error, highlight = [] }: { elements: Element[]; error: string | null; highlight?: string[] }) {
  const [q, setQ] = useState("");
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase().replace(/[(),]/g, "");
    if (!needle) return elements;
    return elements.filter((e) => e.path.toLowerCase().includes(needle) || e.name.toLowerCase().includes(needle) || e.value.toLowerCase().includes(needle));
  }, [q, elements]);
  return (
    <div className="space-y-2" data-testid="header-panel">
      {error && <p role="alert" className="rounded bg-amber-50 p-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">The header could not be read to the end: {error}</p>}
      <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Search tag, name or value" aria-label="Search the header" className="w-full rounded border px-2 py-1 text-sm" />
      <div className="max-h-[480px] overflow-auto">
        <table className="w-full text-left font-mono text-xs">
          <thead className="sticky top-0 bg-white text-slate-500 dark:bg-slate-950">
            <tr><th>Tag</th><th>Name</th><th>VR</th><th>Value</th></tr>
          </thead>
          <tbody>
            {shown.map((e) => {
              const bad = !!e.problem || highlight.includes(e.tag);
              return (
                <tr key={e.path} data-tag={e.tag} data-path={e.path} data-problem={bad || undefined} className={bad ? "bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-200" : undefined}>
                  <td className="whitespace-nowrap pr-2">{e.path.includes(">") ? `${e.path.split(">").slice(0, -1).map((p) => `${fmt(p.slice(0, 8))}${p.slice(8)}`).join(" › ")} › ${fmt(e.tag)}` : fmt(e.tag)}</td>
                  <td className="pr-2">{e.name}</td>
                  <td className="pr-2">{e.vr}</td>
                  <td className="break-all">
                    {e.value}
                    {e.problem && <span className="block font-sans font-medium">⚠ {e.problem}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}
