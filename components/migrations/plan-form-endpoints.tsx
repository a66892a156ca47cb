"use client";

import { useState, useTransition } from "react";
import type { ConnectionTestResult } from "@/engine/api/contract";
import type { ActionResult } from "@/server/action-result";
import type { DraftSource, DraftTarget } from "./plan-form-draft";
import { Field, inputClass, PartErrors, type Errors } from "./plan-form-fields";

export type TestConnection = (which: string) => Promise<ActionResult<ConnectionTestResult>>;

/** A "Test connection" button and its checks, each saying what failed in the words the engine gave. */
function ConnectionTest({ which, test }: { which: string; test: TestConnection }) {
  const [pending, run] = useTransition();
  const [result, setResult] = useState<ActionResult<ConnectionTestResult> | null>(null);
  const data = result?.ok ? result.data : undefined;
  return (
    <div className="space-y-1" data-testid={`connection-${which}`}>
      <button type="button" disabled={pending} onClick={() => run(async () => setResult(await test(which)))} className="rounded-md border border-sky-700 px-2 py-1 text-xs text-sky-700 disabled:opacity-50">
        {pending ? "Testing…" : "Test connection"}
      </button>
      {result && !result.ok && <p role="alert" className="text-xs text-red-700">{result.message}</p>}
      {data && (
        <ul className="text-xs" data-testid="connection-result" data-ok={data.ok}>
          {data.checks.map((c) => (
            <li key={c.check} className={c.ok ? "text-emerald-700" : "text-red-700"}>
              <strong>{c.check.toUpperCase()}</strong> {c.ok ? "✓" : "✗"} {c.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Retrieve({ name, value, onChange }: { name: string; value: string; onChange: (v: string) => void }) {
  return (
    <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
      Retrieve with
      <select data-field={name} value={value} onChange={(e) => onChange(e.target.value)} className={`${inputClass} w-28`}>
        <option value="c-get">C-GET</option>
        <option value="c-move">C-MOVE</option>
      </select>
    </label>
  );
}

export function SourceCard(props: { index: number; source: DraftSource; onChange: (s: DraftSource) => void; onRemove?: () => void; errors: Errors; test: TestConnection }) {
  const { index: i, source: s, errors } = props;
  const p = `sources.${i}`;
  const set = (patch: Partial<DraftSource>) => props.onChange({ ...s, ...patch } as DraftSource);
  return (
    <div className="space-y-2 rounded-md border border-slate-200 p-3 dark:border-slate-800" data-testid={`source-${i}`}>
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Source id" name={`${p}.id`} value={s.id} onChange={(id) => set({ id })} errors={errors} width="w-32" />
        <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
          Kind
          <select
            data-field={`${p}.kind`}
            value={s.kind}
            onChange={(e) => props.onChange(e.target.value === "dicom" ? { kind: "dicom", id: s.id, aeTitle: "", host: "", port: "104", callingAeTitle: "", retrieve: "c-get", findLimit: "0" } : { kind: "filesystem", id: s.id, path: "" })}
            className={`${inputClass} w-44`}
          >
            <option value="dicom">DICOM archive (Q/R)</option>
            <option value="filesystem">Folder or DICOMDIR</option>
          </select>
        </label>
        {s.kind === "dicom" ? (
          <>
            <Field label="AE title" name={`${p}.aeTitle`} value={s.aeTitle} onChange={(aeTitle) => set({ aeTitle })} errors={errors} width="w-32" />
            <Field label="Host" name={`${p}.host`} value={s.host} onChange={(host) => set({ host })} errors={errors} />
            <Field label="Port" name={`${p}.port`} value={s.port} onChange={(port) => set({ port })} errors={errors} width="w-20" />
            <Field label="Our calling AE title" name={`${p}.callingAeTitle`} value={s.callingAeTitle} onChange={(callingAeTitle) => set({ callingAeTitle })} errors={errors} width="w-36" placeholder="IMGOPS_MIGRATE" />
            <Retrieve name={`${p}.retrieve`} value={s.retrieve} onChange={(retrieve) => set({ retrieve })} />
            <Field label="C-FIND result limit (0: none)" name={`${p}.findLimit`} value={s.findLimit} onChange={(findLimit) => set({ findLimit })} errors={errors} width="w-24" />
          </>
        ) : (
          <Field label="Path under the tenant's import folder" name={`${p}.path`} value={s.path} onChange={(path) => set({ path })} errors={errors} width="w-72" placeholder="disc-2019/DICOMDIR" />
        )}
        {props.onRemove && (
          <button type="button" onClick={props.onRemove} className="text-xs text-red-700 underline">Remove source</button>
        )}
      </div>
      <PartErrors name={p} errors={errors} />
      <PartErrors name={`${p}.retrieve`} errors={errors} />
      <ConnectionTest which={p} test={props.test} />
    </div>
  );
}

export function TargetCard(props: { target: DraftTarget; onChange: (t: DraftTarget) => void; errors: Errors; test: TestConnection }) {
  const { target: t, errors } = props;
  const set = (patch: Partial<DraftTarget>) => props.onChange({ ...t, ...patch } as DraftTarget);
  return (
    <div className="space-y-2" data-testid="target">
      <div className="flex flex-wrap items-end gap-3">
        <label className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
          Kind
          <select
            data-field="target.kind"
            value={t.kind}
            onChange={(e) => props.onChange(e.target.value === "dicom" ? { kind: "dicom", aeTitle: "", host: "", port: "104", callingAeTitle: "", retrieve: "c-get" } : { kind: "stow-rs", url: "" })}
            className={`${inputClass} w-52`}
          >
            <option value="dicom">DICOM archive (C-STORE)</option>
            <option value="stow-rs">DICOMweb (STOW-RS)</option>
          </select>
        </label>
        {t.kind === "dicom" ? (
          <>
            <Field label="AE title" name="target.aeTitle" value={t.aeTitle} onChange={(aeTitle) => set({ aeTitle })} errors={errors} width="w-32" />
            <Field label="Host" name="target.host" value={t.host} onChange={(host) => set({ host })} errors={errors} />
            <Field label="Port" name="target.port" value={t.port} onChange={(port) => set({ port })} errors={errors} width="w-20" />
            <Field label="Our calling AE title" name="target.callingAeTitle" value={t.callingAeTitle} onChange={(callingAeTitle) => set({ callingAeTitle })} errors={errors} width="w-36" placeholder="IMGOPS_MIGRATE" />
            <Retrieve name="target.retrieve" value={t.retrieve} onChange={(retrieve) => set({ retrieve })} />
          </>
        ) : (
          <Field label="STOW-RS URL (the DICOMweb root)" name="target.url" value={t.url} onChange={(url) => set({ url })} errors={errors} width="w-96" placeholder="https://pacs.example/dicom-web" />
        )}
      </div>
      <p className="text-[11px] text-slate-500">Each study is retrieved back from the target (C-GET/C-MOVE, or WADO-RS) and compared before it counts as migrated.</p>
      <PartErrors name="target" errors={errors} />
      <PartErrors name="target.retrieve" errors={errors} />
      <ConnectionTest which="target" test={props.test} />
    </div>
  );
}
