"use client";

import { useRef } from "react";

/** Filters the header panel's rows in place (they are server-rendered) by tag, name or value. */
export function HeaderSearch() {
  const input = useRef<HTMLInputElement>(null);
  const filter = () => {
    const needle = (input.current?.value ?? "").trim().toLowerCase().replace(/[(),]/g, "");
    const rows = input.current?.closest("[data-testid=header-panel]")?.querySelectorAll<HTMLTableRowElement>("tbody tr[data-search]") ?? [];
    for (const r of rows) r.hidden = !!needle && !r.dataset.search!.replace(/[(),]/g, "").includes(needle);
  };
  return <input ref={input} type="search" onInput={filter} placeholder="Search tag, name or value" aria-label="Search the header" className="w-full rounded border px-2 py-1 text-sm" />;
}
