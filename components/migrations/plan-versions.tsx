import { formatTime } from "@/components/ui/format";
import type { SignedVersion } from "@/server/migrations/approval";
import { planDiff } from "@/server/migrations/plan-diff";

const STATE_LABELS: Record<SignedVersion["state"], string> = {
  in_force: "In force",
  approved: "Approved, replaced",
  pending: "Awaiting approval",
  superseded: "Superseded (never approved)",
};

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
                <table className="mt-2 w-full text-left font-mono text-xs" data-testid="version-diff">
                  <thead className="text-slate-500">
                    <tr><th className="pr-3">Field</th><th className="pr-3">Version {versions[i + 1]!.version}</th><th>Version {v.version}</th></tr>
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
