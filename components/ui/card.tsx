import type { ReactNode } from "react";

export function Card({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
      <h2 className="mb-2 text-sm font-medium text-slate-600 dark:text-slate-400">{title}</h2>
      {children}
    </section>
  );
}
