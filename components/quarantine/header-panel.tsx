import { HeaderSearch } from "./header-search";

type Element = { tag: string; path: string; name: string; vr: string; value: string; problem?: string };

const fmt = (tag: string) => `(${tag.slice(0, 4)},${tag.slice(4)})`;
const pathLabel = (e: Element) =>
  e.path.includes(">") ? `${e.path.split(">").slice(0, -1).map((p) => `${fmt(p.slice(0, 8))}${p.slice(8)}`).join(" › ")} › ${fmt(e.tag)}` : fmt(e.tag);

/**
 * Every element of one instance, searchable by tag, name or value; elements with a problem are highlighted. Rendered
 * on the server (a header has hundreds to thousands of rows): only the search box runs in the browser, so the rows
 * are not shipped twice nor hydrated before the viewer can start.
 */
export function HeaderPanel({ elements, error, highlight = [] }: { elements: Element[]; error: string | null; highlight?: string[] }) {
  return (
    <div className="space-y-2" data-testid="header-panel">
      {error && <p role="alert" className="rounded bg-amber-50 p-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200">The header could not be read to the end: {error}</p>}
      <HeaderSearch />
      <div className="max-h-[480px] overflow-auto">
        <table className="w-full text-left font-mono text-xs">
          <thead className="sticky top-0 bg-white text-slate-500 dark:bg-slate-950">
            <tr><th>Tag</th><th>Name</th><th>VR</th><th>Value</th></tr>
          </thead>
          <tbody>
            {elements.map((e) => {
              const bad = !!e.problem || highlight.includes(e.tag);
              return (
                <tr
                  key={e.path}
                  data-tag={e.tag}
                  data-path={e.path}
                  data-search={`${e.path} ${e.name} ${e.value}`.toLowerCase()}
                  data-problem={bad || undefined}
                  className={bad ? "bg-red-50 text-red-900 dark:bg-red-950 dark:text-red-200" : undefined}
                >
                  <td className="whitespace-nowrap pr-2">{pathLabel(e)}</td>
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
