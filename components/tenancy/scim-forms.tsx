"use client";

import { useActionState, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";

type Action = (prev: unknown, form: FormData) => Promise<ActionResult<{ token: string }>>;

/** Creates a SCIM token and shows it once. */
export function ScimTokenForm({ action }: { action: Action }) {
  const [state, submit, pending] = useActionState(action, null);
  const [name, setName] = useState("");
  return (
    <form action={submit} className="flex flex-wrap items-end gap-2 text-sm" aria-label="Create a SCIM token" data-testid="scim-token-form">
      <label>
        <span className="block text-slate-600">Token name</span>
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Entra ID" className="w-56 rounded border px-2 py-1" />
      </label>
      <label>
        <span className="block text-slate-600">Role when no group is sent</span>
        <select name="defaultRole" defaultValue="" className="rounded border px-2 py-1">
          <option value="">none (groups only)</option>
          <option value="clinical_reviewer">Clinical reviewer</option>
          <option value="senior_reviewer">Senior reviewer</option>
          <option value="migration_operator">Migration operator</option>
          <option value="tenant_admin">Tenant admin</option>
        </select>
      </label>
      <button disabled={pending} className="rounded bg-sky-700 px-3 py-1.5 text-white disabled:opacity-50">Create token</button>
      {state && (
        <div role={state.ok ? "status" : "alert"} data-testid="scim-token-result" className={state.ok ? "w-full text-emerald-700" : "w-full text-red-700"}>
          <p>{(!state.ok && state.fields?.name?.[0]) || state.message}</p>
          {state.ok && state.data?.token && <code data-testid="scim-token-value" className="block break-all rounded bg-slate-100 p-2 text-slate-900 dark:bg-slate-900 dark:text-slate-100">{state.data.token}</code>}
        </div>
      )}
    </form>
  );
}

export function RevokeScimToken({ revoke }: { revoke: () => Promise<ActionResult> }) {
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<ActionResult | null>(null);
  const [busy, run] = useTransition();
  return (
    <span className="flex items-center gap-2">
      {!confirming ? (
        <button type="button" className="text-red-700 underline" onClick={() => setConfirming(true)}>Revoke…</button>
      ) : (
        <button type="button" disabled={busy} className="rounded bg-red-700 px-2 py-0.5 text-white" onClick={() => run(async () => setResult(await revoke()))}>Confirm revoke</button>
      )}
      {result && <span role="status" className={result.ok ? "text-emerald-700" : "text-red-700"}>{result.message}</span>}
    </span>
  );
}
