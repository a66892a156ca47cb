"use client";

import { useRouter } from "next/navigation";
import { useActionState, useEffect, useState, useTransition } from "react";
import type { ActionResult } from "@/server/action-result";
import { MEANING_PRESETS } from "./labels";

type Decision = "repair" | "retry" | "skip" | "escalate";
type PatchRow = { op: "set" | "remove"; tag: string; value: string };
type Preview = { tag: string; name: string; vr: string; before: string | null; after: string | null }[];

type Props = {
  itemId: string;
  decide: (prev: unknown, form: FormData) => Promise<ActionResult>;
  preview: (patch: unknown) => Promise<ActionResult<Preview>>;
  /** where to go after a fresh sign-in (comes back with the draft restored) */
  reauthHref: string;
  authFresh: boolean;
  authAgeMinutes: number;
  canDecide: boolean;
  /** the category is a transient cause (source or target away, served short): it may be retried unchanged */
  retryable: boolean;
  prev: string | null;
  next: string | null;
  base: string;
};

const draftKey = (id: string) => `quarantine-draft:${id}`;
const normalizeTag = (t: string) => t.replace(/[^0-9a-fA-F]/g, "").toUpperCase();

/**
 * Repair (a tag patch with a validated preview), retry unchanged (a transient cause only), skip (reason) or escalate
 * (note), each signed with a stated meaning after a fresh sign-in. r / t / s / e open a decision; j / k go to the
 * next / previous study. A draft survives the round trip to the identity provider.
 */
export function DecisionPanel({ itemId, decide, preview, reauthHref, authFresh, authAgeMinutes, canDecide, retryable, prev, next, base }: Props) {
  const router = useRouter();
  const [open, setOpen] = useState<Decision | null>(null);
  const [reason, setReason] = useState("");
  const [meaning, setMeaning] = useState("");
  const [patch, setPatch] = useState<PatchRow[]>([{ op: "set", tag: "", value: "" }]);
  const [checked, setChecked] = useState<ActionResult<Preview> | null>(null);
  const [checking, startCheck] = useTransition();
  const [state, submit, signing] = useActionState(decide, null);

  useEffect(() => {
    const saved = sessionStorage.getItem(draftKey(itemId));
    if (!saved) return;
    const d = JSON.parse(saved) as { open: Decision; reason: string; meaning: string; patch: PatchRow[] };
    setOpen(d.open);
    setReason(d.reason);
    setMeaning(d.meaning);
    setPatch(d.patch);
  }, [itemId]);
  useEffect(() => {
    if (state?.ok) sessionStorage.removeItem(draftKey(itemId));
  }, [state, itemId]);

  const choose = (d: Decision) => {
    setOpen(d);
    setMeaning(MEANING_PRESETS[d]);
    setChecked(null);
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement || e.metaKey || e.ctrlKey) return;
      if (e.key === "j" && next) router.push(`${base}/${next}`);
      else if (e.key === "k" && prev) router.push(`${base}/${prev}`);
      else if (canDecide && e.key === "r") choose("repair");
      else if (canDecide && retryable && e.key === "t") choose("retry");
      else if (canDecide && e.key === "s") choose("skip");
      else if (canDecide && e.key === "e") choose("escalate");
      else if (e.key === "Escape") setOpen(null);
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [next, prev, base, router, canDecide, retryable]);

  const patchValue = patch.filter((p) => p.tag.trim()).map((p) => (p.op === "remove" ? { op: "remove", tag: normalizeTag(p.tag) } : { op: "set", tag: normalizeTag(p.tag), value: p.value }));
  const saveDraft = () => sessionStorage.setItem(draftKey(itemId), JSON.stringify({ open, reason, meaning, patch }));
  const fieldError = (k: string) => (checked && !checked.ok ? checked.fields?.[k]?.[0] : undefined) ?? (state && !state.ok ? state.fields?.[k]?.[0] : undefined);

  return (
    <div className="space-y-3" data-testid="decision-panel">
      <div className="flex flex-wrap gap-2 text-sm">
        {prev && <a href={`${base}/${prev}`} className="underline">← previous (k)</a>}
        {next && <a href={`${base}/${next}`} className="underline">next (j) →</a>}
      </div>
      {canDecide && (
        <div className="flex gap-2">
          <button type="button" onClick={() => choose("repair")} className="rounded border px-3 py-1.5 text-sm">Repair… (r)</button>
          {retryable && <button type="button" onClick={() => choose("retry")} className="rounded border px-3 py-1.5 text-sm">Retry unchanged… (t)</button>}
          <button type="button" onClick={() => choose("skip")} className="rounded border px-3 py-1.5 text-sm">Skip… (s)</button>
          <button type="button" onClick={() => choose("escalate")} className="rounded border px-3 py-1.5 text-sm">Escalate… (e)</button>
        </div>
      )}
      {open && (
        <form action={submit} role="dialog" aria-label={`${open} decision`} className="space-y-3 rounded-lg border border-slate-300 p-4 dark:border-slate-700">
          <h3 className="font-medium capitalize">{open}</h3>
          <input type="hidden" name="decision" value={open} />
          <input type="hidden" name="patch" value={open === "repair" ? JSON.stringify(patchValue) : "[]"} />
          {open === "repair" && (
            <fieldset className="space-y-2">
              <legend className="text-sm">Tag patch (applied with dcmodify before the study is sent again)</legend>
              {patch.map((p, i) => (
                <div key={i} className="flex flex-wrap items-start gap-2">
                  <select aria-label={`Operation ${i + 1}`} value={p.op} onChange={(e) => setPatch(patch.map((x, j) => (j === i ? { ...x, op: e.target.value as "set" | "remove" } : x)))} className="rounded border px-1 py-1 text-sm">
                    <option value="set">set</option>
                    <option value="remove">remove</option>
                  </select>
                  <input aria-label={`Tag ${i + 1}`} placeholder="(0008,1030)" value={p.tag} onChange={(e) => setPatch(patch.map((x, j) => (j === i ? { ...x, tag: e.target.value } : x)))} className="w-32 rounded border px-2 py-1 font-mono text-sm" />
                  {p.op === "set" && <input aria-label={`Value ${i + 1}`} placeholder="value" value={p.value} onChange={(e) => setPatch(patch.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} className="flex-1 rounded border px-2 py-1 text-sm" />}
                  <button type="button" aria-label={`Remove row ${i + 1}`} onClick={() => setPatch(patch.filter((_, j) => j !== i))} className="text-sm underline">✕</button>
                  {(fieldError(`patch.${i}.tag`) || fieldError(`patch.${i}.value`)) && <p className="w-full text-sm text-red-700">{fieldError(`patch.${i}.tag`) ?? fieldError(`patch.${i}.value`)}</p>}
                </div>
              ))}
              <div className="flex gap-2">
                <button type="button" onClick={() => setPatch([...patch, { op: "set", tag: "", value: "" }])} className="rounded border px-2 py-1 text-sm">Add element</button>
                <button type="button" disabled={checking} onClick={() => startCheck(async () => setChecked(await preview(patchValue)))} className="rounded border px-2 py-1 text-sm">Preview</button>
              </div>
              {checked?.ok && checked.data && (
                <table className="w-full text-left font-mono text-xs" data-testid="patch-preview">
                  <thead><tr><th>Element</th><th>VR</th><th>Now</th><th>After repair</th></tr></thead>
                  <tbody>
                    {checked.data.map((p) => (
                      <tr key={p.tag}><td>{p.name} ({p.tag.slice(0, 4)},{p.tag.slice(4)})</td><td>{p.vr}</td><td>{p.before ?? "—"}</td><td>{p.after ?? "(removed)"}</td></tr>
                    ))}
                  </tbody>
                </table>
              )}
              {checked && !checked.ok && <p className="text-sm text-red-700">{checked.message}</p>}
            </fieldset>
          )}
          <label className="block text-sm">
            {open === "escalate" ? "Note for the senior reviewer" : "Reason"}
            <textarea name="reason" required minLength={3} value={reason} onChange={(e) => setReason(e.target.value)} rows={2} className="mt-1 block w-full rounded border px-2 py-1" />
          </label>
          <label className="block text-sm">
            Meaning of your signature
            <input name="meaning" required minLength={3} value={meaning} onChange={(e) => setMeaning(e.target.value)} className="mt-1 block w-full rounded border px-2 py-1" />
          </label>
          <p className="text-xs text-slate-500">
            Signing is an electronic signature: your name, the time and this meaning are recorded with the decision and linked to this study. It needs a sign-in at your identity provider within the last few minutes (yours was {authAgeMinutes} min ago).
          </p>
          {authFresh ? (
            <button disabled={signing} className="rounded bg-sky-700 px-3 py-1.5 text-sm text-white disabled:opacity-50">Sign and submit</button>
          ) : (
            <a href={reauthHref} onClick={saveDraft} className="inline-block rounded bg-amber-600 px-3 py-1.5 text-sm text-white">Re-authenticate to sign</a>
          )}
          {state && (
            <p role="status" data-testid="decision-result" className={state.ok ? "text-sm text-emerald-700" : "text-sm text-red-700"}>
              {state.message}
              {!state.ok && state.reauth && (
                <a href={reauthHref} onClick={saveDraft} className="ml-2 underline">Re-authenticate</a>
              )}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
