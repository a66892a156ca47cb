"use client";

import { useActionState, useState } from "react";
import type { ActionResult } from "@/server/action-result";

const FIELDS = [
  { name: "name", label: "Display name", placeholder: "St. Mary's Radiology" },
  { name: "slug", label: "Slug (in URLs; never reused)", placeholder: "st-marys" },
  { name: "ttlDays", label: "Hold TTL (days)", placeholder: "7" },
  { name: "calledAeTitles", label: "Called AE titles (comma-separated)", placeholder: "STMARYS" },
  { name: "adminEmail", label: "First tenant admin's e-mail", placeholder: "pacs.admin@stmarys.example" },
] as const;

/** Engineers create a tenant; each field's refusal is shown next to it and nothing typed is lost. */
export function CreateTenantForm({ action }: { action: (prev: unknown, form: FormData) => Promise<ActionResult> }) {
  const [state, submit, pending] = useActionState(action, null);
  // Controlled, so a refused submission keeps what was typed (a form action resets uncontrolled inputs).
  const [values, setValues] = useState<Record<string, string>>({ ttlDays: "7" });
  const error = (k: string) => (state && !state.ok ? state.fields?.[k]?.[0] : undefined);
  return (
    <form action={submit} className="grid max-w-3xl grid-cols-2 gap-3 text-sm" aria-label="Create a tenant" data-testid="create-tenant-form">
      {FIELDS.map((f) => (
        <label key={f.name} className="block">
          <span className="text-slate-600">{f.label}</span>
          <input name={f.name} placeholder={f.placeholder} value={values[f.name] ?? ""} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} data-field={f.name} className="block w-full rounded border px-2 py-1" />
          {error(f.name) && <span className="text-red-700" data-error-for={f.name}>{error(f.name)}</span>}
        </label>
      ))}
      <div className="col-span-2 flex items-center gap-3">
        <button disabled={pending} className="rounded bg-sky-700 px-3 py-1.5 text-white disabled:opacity-50">Create tenant</button>
        {state && <span role={state.ok ? "status" : "alert"} data-testid="create-tenant-result" className={state.ok ? "text-emerald-700" : "text-red-700"}>{state.message}</span>}
      </div>
    </form>
  );
}
