"use client";

import { useActionState, useState } from "react";
import type { ConnectionTestResult, TransformPreview } from "@/engine/api/contract";
import type { ActionResult } from "@/server/action-result";
import { emptyDraft, newDicomSource, newFolderSource, type Draft } from "./plan-form-draft";
import { SourceCard, TargetCard } from "./plan-form-endpoints";
import { Field, PartErrors, Section } from "./plan-form-fields";
import { RulesEditor, TransformPreviewPanel } from "./plan-form-rules";
import { gridOf, WindowGrid, windowsOf } from "./window-grid";

type Props = {
  initial?: Draft;
  submitLabel: string;
  save: (prev: unknown, form: FormData) => Promise<ActionResult>;
  testConnection: (draftJson: string, which: string) => Promise<ActionResult<ConnectionTestResult>>;
  preview: (draftJson: string, sourceIndex: number) => Promise<ActionResult<TransformPreview>>;
};

/**
 * The migration plan: sources, target, filters, windows, caps and tag rules. The draft lives in this component's
 * state and goes to the server as one JSON field, so a refused save keeps everything and marks the fields at fault.
 */
export function PlanForm({ initial, submitLabel, save, testConnection, preview }: Props) {
  const [draft, setDraft] = useState<Draft>(() => initial ?? emptyDraft());
  const [grid, setGrid] = useState(() => gridOf(initial?.windows));
  const [timeZone, setTimeZone] = useState(initial?.windows?.timeZone ?? "UTC");
  const [state, action, saving] = useActionState(save, null);
  const withWindows = { ...draft, windows: windowsOf(grid, timeZone) };
  const json = JSON.stringify(withWindows);
  const errors = state && !state.ok ? state.fields : undefined;
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  return (
    <form action={action} className="max-w-5xl space-y-4" aria-label="Migration plan">
      <input type="hidden" name="draft" value={json} />
      <Field label="Name" name="name" value={draft.name} onChange={(v) => set("name", v)} errors={errors} width="w-96" />
      <Section title="Sources">
        {draft.sources.map((s, i) => (
          <SourceCard
            key={i}
            index={i}
            source={s}
            errors={errors}
            onChange={(n) => set("sources", draft.sources.map((x, j) => (j === i ? n : x)))}
            onRemove={draft.sources.length > 1 ? () => set("sources", draft.sources.filter((_, j) => j !== i)) : undefined}
            test={(which) => testConnection(json, which)}
          />
        ))}
        <PartErrors name="sources" errors={errors} />
        <div className="flex gap-2">
          <button type="button" onClick={() => set("sources", [...draft.sources, newDicomSource(draft.sources.length + 1)])} className="rounded-md border border-slate-400 px-2 py-1 text-xs">Add DICOM source</button>
          <button type="button" onClick={() => set("sources", [...draft.sources, newFolderSource(draft.sources.length + 1)])} className="rounded-md border border-slate-400 px-2 py-1 text-xs">Add folder source</button>
        </div>
      </Section>
      <Section title="Target">
        <TargetCard target={draft.target} errors={errors} onChange={(t) => set("target", t)} test={(which) => testConnection(json, which)} />
      </Section>
      <Section title="Which studies">
        <div className="flex flex-wrap items-end gap-3">
          <Field label="Study date from" name="filters.studyDateFrom" type="date" value={draft.filters.studyDateFrom} onChange={(v) => set("filters", { ...draft.filters, studyDateFrom: v })} errors={errors} />
          <Field label="Study date to" name="filters.studyDateTo" type="date" value={draft.filters.studyDateTo} onChange={(v) => set("filters", { ...draft.filters, studyDateTo: v })} errors={errors} />
          <Field label="Modalities (empty: all)" name="filters.modalities" value={draft.filters.modalities} onChange={(v) => set("filters", { ...draft.filters, modalities: v })} errors={errors} placeholder="CT, MR" />
        </div>
        <PartErrors name="filters" errors={errors} />
      </Section>
      <Section title="When and how fast">
        <div className="flex flex-wrap items-end gap-3">
          <Field label="Overall cap (MB/s, empty: none)" name="overallCap" value={draft.overallCap} onChange={(v) => set("overallCap", v)} errors={errors} width="w-28" />
          <Field label="Per-source cap (MB/s)" name="perSourceCap" value={draft.perSourceCap} onChange={(v) => set("perSourceCap", v)} errors={errors} width="w-28" />
          <Field label="Priority (0–100)" name="priority" value={draft.priority} onChange={(v) => set("priority", v)} errors={errors} width="w-20" />
          <Field label="Workers (1–16)" name="concurrency" value={draft.concurrency} onChange={(v) => set("concurrency", v)} errors={errors} width="w-20" />
        </div>
        <label className="flex items-center gap-2 text-xs text-slate-600 dark:text-slate-400">
          Windows, time zone
          <input value={timeZone} onChange={(e) => setTimeZone(e.target.value)} className="rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700" />
          <button type="button" className="underline" onClick={() => setGrid(gridOf(null))}>open all</button>
        </label>
        <WindowGrid grid={grid} onChange={setGrid} />
        <PartErrors name="windows" errors={errors} />
        <PartErrors name="windows.timeZone" errors={errors} />
      </Section>
      <Section title="Tag rules">
        <RulesEditor rules={draft.rules} anonymize={draft.anonymize} errors={errors} onChange={(r) => set("rules", r)} onAnonymize={(v) => set("anonymize", v)} />
        <TransformPreviewPanel sources={draft.sources} preview={(i) => preview(json, i)} />
      </Section>
      <div className="flex items-center gap-3">
        <button type="submit" disabled={saving} className="rounded-md bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">{saving ? "Saving…" : submitLabel}</button>
        {state && (
          <p role={state.ok ? "status" : "alert"} data-testid="save-result" className={state.ok ? "text-sm text-emerald-700" : "text-sm text-red-700"}>
            {state.message}
          </p>
        )}
      </div>
      <p className="text-xs text-slate-500">Saving asks the engine to reach every DICOM source and the target (C-ECHO); if one does not answer, nothing is saved and the form keeps what you typed.</p>
    </form>
  );
}
