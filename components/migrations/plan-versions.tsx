import { formatTime } from "@/components/ui/format";
import type { SignedVersion } from "@/server/migrations/approval";
import { planDiff } from "@/server/migrations/plan-diff";

const STATE_LABELS: Record<SignedVersion["state"], string> = {
  in_force: "In force",
  approved: "Approved, replaced",
  pending: "Awaiting approval",
  superseded: "Superseded (never approved)",
};

function ChangeTable({ changes, from, to }: { changes: ReturnType<typeof planDiff>; from: number; to: number }) {
  return (
    <table className="mt-2 w-full text-left font-mono text-xs" data-testid="version-diff">
      <thead className="text-slate-500">
        <tr><th className="pr-3">Field</th><th className="pr-3">Version {from}</th><th>Version {to}</th></tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.path} data-path={c.path}>
            <td className="pr-3">{c.path}</td>
            <td className="pr-3 text-red-700">{c.before ?? "—"}</td>
            <td className="text-emerald-700">{c.after ?? "—"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Any two versions side by side, field by field (a GET form, so the comparison has its own address). */
export function CompareVersions({ versions, from, to }: { versions: SignedVersion[]; from: number; to: number }) {
  if (versions.length < 2) return null;
  const a = versions.find((v) => v.version === from);
  const b = versions.find((v) => v.version === to);
  const options = versions.map((v) => <option key={v.version} value={v.version}>Version {v.version}</option>);
  return (
    <section className="space-y-2 text-sm" aria-label="Compare two versions" data-testid="compare-versions">
      <form method="get" className="flex items-center gap-2">
        Compare
        <select name="from" defaultValue={a?.version ?? versions.at(-1)!.version} aria-label="From version" className="rounded border px-1 py-0.5">{options}</select>
        with
        <select name="to" defaultValue={b?.version ?? versions[0]!.version} aria-label="To version" className="rounded border px-1 py-0.5">{options}</select>
        <button className="rounded border px-2 py-0.5">Compare</button>
      </form>
      {a && b && (planDiff(a.plan, b.plan).length ? <ChangeTable changes={planDiff(a.plan, b.plan)} from={a.version} to={b.version} /> : <p className="text-slate-500">Versions {a.version} and {b.version} are the same plan.</p>)}
    </section>
  );
}

/** Every version of the plan, newest first: who wrote it, its hash, who approved it, and what it changed. */
export function PlanVersions({ versions }: { versions: SignedVersion[] }) {
  return (
    <ol className="space-y-4" data-testid="plan-versions">
      {versions.map((v, i) => {
        const changes = planDiff(versions[i + 1]?.plan ?? null, v.plan);
        return (
          <li key={v.version} className="rounded border border-slate-200 p-3 text-sm dark:border-slate-800" data-testid="plan-version" data-version={v.version} data-state={v.state}>
            <p className="font-medium">
              Version {v.version} — <span data-testid="version-state">{STATE_LABELS[v.state]}</span>
            </p>
            <p className="text-slate-600">
              Written by {v.author?.name ?? "(not recorded)"} at {formatTime(v.createdAt)} · SHA-256 <code className="break-all text-xs" data-testid="version-hash">{v.planSha256}</code>
            </p>
            {v.approval && (
              <p data-testid="version-approval">
                Approved by <strong>{v.approval.name}</strong> at {formatTime(v.approval.signedAt)}: “{v.approval.meaning}”
                {v.signature ? (v.signature.verified ? " — signature record verified" : " — the signature record does not match this version") : " — no signature record in this console"}
              </p>
            )}
            {i + 1 < versions.length ? (
              changes.length ? (
                <ChangeTable changes={changes} from={versions[i + 1]!.version} to={v.version} />
              ) : (
                <p className="text-slate-500">Same plan as version {versions[i + 1]!.version}.</p>
              )
            ) : (
              <p className="text-slate-500">The first version: {changes.length} fields.</p>
            )}
          </li>
        );
      })}
    </ol>
  );
}
