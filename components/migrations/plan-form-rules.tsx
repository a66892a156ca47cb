"use client";

import { useState, useTransition } from "react";
import type { TransformPreview } from "@/engine/api/contract";
import type { ActionResult } from "@/server/action-result";
import { newRule, type DraftRule } from "./plan-form-draft";
import { Field, inputClass, PartErrors, type Errors } from "./plan-form-fields";

export function RulesEditor(props: { rules: DraftRule[]; anonymize: boolean; onChange: (rules: DraftRule[]) => void; onAnonymize: (v: boolean) => void; errors: Errors }) {
  const { rules, errors } = props;
  const set = (i: number, patch: Partial<DraftRule>) => props.onChange(rules.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="space-y-2">
      {rules.map((r, i) => {
        const p = `rules.${i}`;
        return (
          <div key={i} className="flex flex-wrap items-end gap-3 rounded-md border border-slate-200 p-2 dark:border-slate-800" data-testid={`rule-${i}`}>
            <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
              Rule
              <select data-field={`${p}.op`} value={r.op} onChange={(e) => set(i, { op: e.target.value as DraftRule["op"] })} className={`${inputClass} w-40`}>
                <option value="set">Set a tag</option>
                <option value="remove">Remove a tag</option>
                <option value="map">Map values</option>
                <option value="remove-private">Remove private tags</option>
              </select>
            </label>
            {r.op !== "remove-private" && <Field label="Tag (8 hex digits)" name={`${p}.tag`} value={r.tag} onChange={(tag) => set(i, { tag })} errors={errors} width="w-28" placeholder="00081030" />}
            {r.op === "set" && <Field label="Value" name={`${p}.value`} value={r.value} onChange={(value) => set(i, { value })} errors={errors} width="w-56" />}
            {r.op === "map" && (
              <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
                FROM=TO, one per line
                <textarea data-field={`${p}.values`} value={r.values} onChange={(e) => set(i, { values: e.target.value })} rows={2} aria-invalid={!!errors?.[`${p}.values`]} className={`${inputClass} w-56`} />
                <PartErrors name={`${p}.values`} errors={errors} />
              </label>
            )}
            {r.op === "remove-private" && (
              <>
                <Field label="Only groups (hex, empty: all)" name={`${p}.groups`} value={r.groups} onChange={(groups) => set(i, { groups })} errors={errors} width="w-40" placeholder="0009, 0029" />
                <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
                  Only private creators (one per line)
                  <textarea data-field={`${p}.creators`} value={r.creators} onChange={(e) => set(i, { creators: e.target.value })} rows={2} className={`${inputClass} w-48`} />
                </label>
              </>
            )}
            <Field label="Only sources (ids)" name={`${p}.sources`} value={r.sources} onChange={(sources) => set(i, { sources })} errors={errors} width="w-32" />
            <Field label="Only modalities" name={`${p}.modalities`} value={r.modalities} onChange={(modalities) => set(i, { modalities })} errors={errors} width="w-28" placeholder="CT, MR" />
            <button type="button" onClick={() => props.onChange(rules.filter((_, j) => j !== i))} className="text-xs text-red-700 underline">Remove rule</button>
            <PartErrors name={p} errors={errors} />
          </div>
        );
      })}
      <button type="button" onClick={() => props.onChange([...rules, newRule()])} className="rounded-md border border-slate-400 px-2 py-1 text-xs">Add tag rule</button>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" data-field="anonymize" checked={props.anonymize} onChange={(e) => props.onAnonymize(e.target.checked)} />
        Apply the basic anonymization profile (after the tag rules; patient identity replaced by keyed pseudonyms)
      </label>
      <PartErrors name="anonymize" errors={errors} />
    </div>
  );
}

/** The rules applied to a real sample study from a source: each instance's elements, the changed ones highlighted. */
export function TransformPreviewPanel(props: { sources: { id: string }[]; preview: (sourceIndex: number) => Promise<ActionResult<TransformPreview>> }) {
  const [pending, run] = useTransition();
  const [index, setIndex] = useState(0);
  const [onlyChanged, setOnlyChanged] = useState(true);
  const [result, setResult] = useState<ActionResult<TransformPreview> | null>(null);
  const data = result?.ok ? result.data : undefined;
  return (
    <div className="space-y-2" data-testid="transform-preview">
      <div className="flex items-end gap-2">
        <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
          Sample from source
          <select value={index} onChange={(e) => setIndex(Number(e.target.value))} className={`${inputClass} w-40`}>
            {props.sources.map((s, i) => (
              <option key={i} value={i}>{s.id || `source ${i + 1}`}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={pending} onClick={() => run(async () => setResult(await props.preview(index)))} className="rounded-md border border-sky-700 px-2 py-1 text-xs text-sky-700 disabled:opacity-50">
          {pending ? "Retrieving a sample study…" : "Preview on a sample study"}
        </button>
        <label className="flex items-center gap-1 text-xs">
          <input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged(e.target.checked)} /> only changed elements
        </label>
      </div>
      {result && !result.ok && <p role="alert" className="text-xs text-red-700">{result.message}</p>}
      {data && (
        <div className="space-y-2 text-xs">
          <p role="status">{result!.message}</p>
          {data.instances.map((inst) => (
            <table key={inst.sopInstanceUid} className="w-full border-collapse" data-testid="preview-instance">
              <caption className="text-left font-mono text-slate-500">{inst.sopInstanceUid}</caption>
              <thead>
                <tr className="text-left text-slate-500">
                  <th>Tag</th>
                  <th>Name</th>
                  <th>Before</th>
                  <th>After</th>
                </tr>
              </thead>
              <tbody>
                {inst.elements
                  .filter((e) => !onlyChanged || e.changed)
                  .map((e) => (
                    <tr key={e.path} data-changed={e.changed} className={e.changed ? "bg-amber-100 dark:bg-amber-900/40" : ""}>
                      <td className="font-mono">{e.path}</td>
                      <td>{e.name}</td>
                      <td className="break-all">{e.before ?? <em>absent</em>}</td>
                      <td className="break-all">{e.after ?? <em>removed</em>}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          ))}
          {data.instances.every((i) => !i.elements.some((e) => e.changed)) && <p>No rule changes anything in this sample.</p>}
        </div>
      )}
    </div>
  );
}
