import Link from "next/link";
import type { AuditRow } from "@/server/audit/queries";
import type { CheckpointResult, VerifyResult } from "@/server/audit/actions";
import { AuditControls } from "./audit-controls";

type SigningStatus = { keyId: string; publicKey: string; latest: { seq: number; at: string } | null };

export type AuditLogProps = {
  title: string;
  /** the screen's own path, e.g. /t/northside/audit */
  basePath: string;
  exportPath: string;
  filter: Record<string, string>;
  errors: string[];
  entries: AuditRow[];
  nextBefore: number | null;
  signing: SigningStatus;
  verify: () => Promise<VerifyResult>;
  checkpoint?: () => Promise<CheckpointResult>;
};

const FIELDS = [
  { name: "from", label: "From", type: "datetime-local" },
  { name: "to", label: "To", type: "datetime-local" },
  { name: "actor", label: "Actor (e-mail)", type: "text" },
  { name: "action", label: "Action", type: "text", placeholder: "retention.update" },
  { name: "target", label: "Target", type: "text", placeholder: "tenant:northside" },
] as const;

const actorLabel = (a: AuditRow["actor"]) => ("system" in a ? a.system : a.email || a.name);
const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
};

/** The audit screen: filters, a keyset-paged table (newest first), Verify, Export and the signing key. */
export function AuditLog(p: AuditLogProps) {
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold">{p.title}</h1>
          <p className="text-sm text-slate-600 dark:text-slate-400">
            Every change and data event, hash-chained and append-only. Exports verify offline with <code>npm run audit:verify</code>.
          </p>
        </div>
        <AuditControls verify={p.verify} checkpoint={p.checkpoint} />
      </div>

      <form method="get" action={p.basePath} className="flex flex-wrap items-end gap-3" aria-label="Filter the audit log">
        {FIELDS.map((f) => (
          <label key={f.name} className="flex flex-col text-xs text-slate-600 dark:text-slate-400">
            {f.label}
            <input
              name={f.name}
              type={f.type}
              defaultValue={p.filter[f.name] ?? ""}
              placeholder={"placeholder" in f ? f.placeholder : undefined}
              className="mt-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700"
            />
          </label>
        ))}
        <button type="submit" className="rounded-md bg-slate-800 px-3 py-1.5 text-sm text-white dark:bg-slate-200 dark:text-slate-900">Apply</button>
        <Link href={p.basePath} className="px-2 py-1.5 text-sm text-slate-600 underline dark:text-slate-400">Clear</Link>
      </form>
      {p.errors.length > 0 && (
        <ul role="alert" data-testid="filter-errors" className="text-sm text-red-700 dark:text-red-400">
          {p.errors.map((e) => <li key={e}>{e}</li>)}
        </ul>
      )}

      <div className="flex flex-wrap gap-3 text-sm">
        <span className="text-slate-600 dark:text-slate-400">Export {Object.keys(p.filter).length ? "this filtered range" : "the whole chain"}:</span>
        <a className="underline" href={`${p.exportPath}${query({ ...p.filter, format: "jsonl" })}`} data-testid="export-jsonl">JSON Lines (verifiable)</a>
        <a className="underline" href={`${p.exportPath}${query({ ...p.filter, format: "csv" })}`} data-testid="export-csv">CSV</a>
      </div>

      <table className="w-full text-left text-sm" data-testid="audit-entries">
        <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
          <tr><th className="py-2">Seq</th><th>Time (UTC)</th><th>Actor</th><th>Action</th><th>Target</th><th>Source</th><th>Reason</th></tr>
        </thead>
        <tbody>
          {p.entries.map((e) => (
            <tr key={e.seq} className="border-b border-slate-100 align-top dark:border-slate-900">
              <td className="py-1.5 font-mono"><Link className="underline" href={`${p.basePath}/${e.seq}`}>{e.seq}</Link></td>
              <td className="whitespace-nowrap font-mono text-xs">{e.at.replace("T", " ").slice(0, 23)}</td>
              <td>{actorLabel(e.actor)}{"grantId" in e.actor && e.actor.grantId ? <span className="ml-1 rounded bg-amber-100 px-1 text-xs text-amber-900">break-glass</span> : null}</td>
              <td className="font-mono text-xs">{e.action}</td>
              <td className="max-w-xs truncate font-mono text-xs" title={e.target}>{e.target}</td>
              <td>{e.source}</td>
              <td className="max-w-xs truncate" title={e.reason ?? ""}>{e.reason}</td>
            </tr>
          ))}
          {p.entries.length === 0 && (
            <tr><td colSpan={7} className="py-4 text-slate-500">No entries match.</td></tr>
          )}
        </tbody>
      </table>
      <nav className="flex gap-4 text-sm" aria-label="Pages">
        <Link className="underline" href={`${p.basePath}${query(p.filter)}`}>Newest</Link>
        {p.nextBefore && <Link className="underline" href={`${p.basePath}${query({ ...p.filter, before: p.nextBefore })}`} data-testid="older">Older →</Link>}
      </nav>

      <section className="rounded-lg border border-slate-200 p-4 text-sm dark:border-slate-800" aria-label="Signing key">
        <h2 className="mb-1 font-medium">Checkpoint signing key (Ed25519)</h2>
        <p>Key id <code data-testid="signing-key-id">{p.signing.keyId}</code> · public key <code className="break-all" data-testid="signing-public-key">{p.signing.publicKey}</code></p>
        <p className="text-slate-600 dark:text-slate-400">
          {p.signing.latest ? `Latest checkpoint: seq ${p.signing.latest.seq}, signed ${p.signing.latest.at}.` : "No checkpoint signed yet."} Give
          this public key to auditors: <code>npm run audit:verify -- export.jsonl --public-key {p.signing.publicKey}</code>
        </p>
      </section>
    </div>
  );
}
