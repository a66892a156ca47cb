"use client";

import { useActionState } from "react";
import type { ActionResult } from "@/server/action-result";

/** The engineer's break-glass request; submitting leads to a fresh sign-in at the IdP before anything opens. */
export function GrantRequestForm({ tenants, prepare }: { tenants: { slug: string; name: string }[]; prepare: (prev: unknown, form: FormData) => Promise<ActionResult | undefined> }) {
  const [state, action, pending] = useActionState(prepare, undefined);
  const err = (k: string) => (state && !state.ok ? state.fields?.[k]?.[0] : undefined);
  const input = "mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700";
  return (
    <form action={action} className="max-w-2xl space-y-3" aria-label="Request break-glass access">
      <label className="flex flex-col text-sm">
        Tenant
        <select name="tenant" required className={input}>
          {tenants.map((t) => <option key={t.slug} value={t.slug}>{t.name} ({t.slug})</option>)}
        </select>
      </label>
      <label className="flex flex-col text-sm">
        Justification (at least 20 characters, shown to the tenant)
        <textarea name="justification" required minLength={20} rows={3} className={input} aria-invalid={!!err("justification")} />
        {err("justification") && <span className="text-red-700">{err("justification")}</span>}
      </label>
      <label className="flex flex-col text-sm">
        Ticket reference
        <input name="ticket" required maxLength={100} className={input} aria-invalid={!!err("ticket")} />
        {err("ticket") && <span className="text-red-700">{err("ticket")}</span>}
      </label>
      <fieldset className="flex gap-4 text-sm">
        <legend className="mb-1">Scope</legend>
        <label><input type="radio" name="scope" value="read_only" defaultChecked /> Read-only</label>
        <label><input type="radio" name="scope" value="read_write" /> Read-write</label>
      </fieldset>
      <label className="flex flex-col text-sm">
        Duration
        <select name="durationMinutes" defaultValue="60" className={input}>
          <option value="15">15 minutes</option><option value="30">30 minutes</option><option value="60">1 hour</option>
          <option value="120">2 hours</option><option value="240">4 hours</option>
        </select>
      </label>
      {state && !state.ok && <p role="alert" className="text-sm text-red-700">{state.message}</p>}
      <button type="submit" disabled={pending} className="rounded-md bg-amber-700 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-50">
        Continue: confirm it&apos;s you
      </button>
    </form>
  );
}
