"use client";

import { useActionState, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

type Props = {
  kind: "called" | "calling";
  title: string;
  help: string;
  titles: string[];
  canUpdate: boolean;
  add: (prev: unknown, form: FormData) => Promise<ActionResult>;
  remove: (aeTitle: string) => Promise<ActionResult>;
  test?: (aeTitle: string) => Promise<ActionResult>;
};

/** One list of AE titles (called or calling): add with field messages, remove, and for called ones a C-ECHO test. */
export function AeTitleList({ kind, title, help, titles, canUpdate, add, remove, test }: Props) {
  const [state, action, pending] = useActionState(add, null);
  const [notes, setNotes] = useState<Record<string, ActionResult>>({});
  const [busy, start] = useTransition();
  const run = (key: string, fn: () => Promise<ActionResult>) => start(async () => {
    const r = await fn();
    setNotes((n) => ({ ...n, [key]: r }));
  });
  const fieldError = state && !state.ok ? (state.fields?.aeTitle?.[0] ?? state.message) : undefined;
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 p-4 dark:border-slate-800" aria-label={title} data-testid={`${kind}-ae-titles`}>
      <div>
        <h2 className="font-medium">{title}</h2>
        <p className="text-sm text-slate-600 dark:text-slate-400">{help}</p>
      </div>
      <ul className="space-y-1">
        {titles.map((t) => (
          <li key={t} className="flex flex-wrap items-center gap-3 text-sm">
            <code className="min-w-40">{t}</code>
            {test && <button type="button" disabled={busy} onClick={() => run(`test:${t}`, () => test(t))} className="rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-700">Test</button>}
            {canUpdate && <button type="button" disabled={busy} onClick={() => run(`remove:${t}`, () => remove(t))} className="text-xs text-red-700 underline">Remove</button>}
            {[notes[`test:${t}`], notes[`remove:${t}`]].filter(Boolean).map((n, i) => (
              <span key={i} role="status" data-testid="ae-title-note" className={n!.ok ? "text-xs text-emerald-700" : "text-xs text-red-700"}>{n!.message}</span>
            ))}
          </li>
        ))}
        {titles.length === 0 && <li className="text-sm text-slate-500">{kind === "called" ? "None: vendors cannot send to this tenant yet." : "None: any vendor may send."}</li>}
      </ul>
      {test && (
        <form
          className="flex flex-wrap items-center gap-2"
          aria-label="Test a called AE title"
          onSubmit={(e) => {
            e.preventDefault();
            const t = String(new FormData(e.currentTarget).get("testTitle") ?? "");
            run("test:other", () => test(t));
          }}
        >
          <input name="testTitle" placeholder="Test another called AE title" maxLength={64} className="rounded-md border border-slate-300 bg-transparent px-2 py-1 font-mono text-sm dark:border-slate-700" />
          <button type="submit" disabled={busy} className="rounded border border-slate-300 px-2 py-0.5 text-xs dark:border-slate-700">Test</button>
          {notes["test:other"] && <span role="status" data-testid="ae-title-note" className={notes["test:other"].ok ? "text-xs text-emerald-700" : "text-xs text-red-700"}>{notes["test:other"].message}</span>}
        </form>
      )}
      {canUpdate && (
        <form action={action} className="flex flex-wrap items-start gap-2">
          <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
            Add an AE title
            <input name="aeTitle" maxLength={64} aria-invalid={!!fieldError} className="mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 font-mono text-sm dark:border-slate-700" />
          </label>
          <button type="submit" disabled={pending} className="mt-5 rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Add</button>
          {state && <p role={state.ok ? "status" : "alert"} data-testid={`${kind}-add-result`} className={`mt-6 text-sm ${state.ok ? "text-emerald-700" : "text-red-700"}`}>{state.ok ? state.message : fieldError}</p>}
        </form>
      )}
    </section>
  );
}
