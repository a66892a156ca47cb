// The signed-off migration record as a document: what the page and the PDF both show, from the frozen record.
import type { MigrationReconciliation } from "@/engine/api/contract";

export type SignoffRecord = {
  format: "imgops-migration-signoff/1";
  migrationId: string;
  tenantSlug: string;
  name: string;
  counts: { discovered: number; migrated: number; quarantined: number; skipped: number };
  plan: { version: number; planSha256: string; author: string | null; approvedBy: string | null; approvedAt: string | null; approvalMeaning: string | null; signatureId: string | null };
  reconciliation: MigrationReconciliation;
  verification: { reportSha256: string; studies: number; instances: number };
};

export type SignoffSignature = { signerName: string; signerEmail: string; meaning: string; signedAt: string; authTime: string; recordSha256: string };

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const table = (head: string[], rows: unknown[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.length ? rows.map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join("")}</tr>`).join("") : `<tr><td colspan="${head.length}">none</td></tr>`}</tbody></table>`;

export function signoffHtml(r: SignoffRecord, s: SignoffSignature) {
  const rec = r.reconciliation;
  const body = `<article>
<h1>${esc(r.name)} — signed-off migration record</h1>
<p class="muted">Migration ${esc(r.migrationId)} · tenant ${esc(r.tenantSlug)}</p>
<h2>Sign-off</h2>
<p>Signed by <b>${esc(s.signerName)}</b> (${esc(s.signerEmail)}) at ${esc(s.signedAt)}, authenticated at ${esc(s.authTime)}: “${esc(s.meaning)}”.</p>
<p>Record SHA-256: <code>${esc(s.recordSha256)}</code></p>
<h2>Plan</h2>
<p>Version ${r.plan.version}, SHA-256 <code>${esc(r.plan.planSha256)}</code>, written by ${esc(r.plan.author ?? "(not recorded)")}; approved by ${esc(r.plan.approvedBy ?? "—")} at ${esc(r.plan.approvedAt ?? "—")} (“${esc(r.plan.approvalMeaning ?? "")}”).</p>
<h2>Outcome</h2>
<p>${r.counts.discovered} studies discovered: ${r.counts.migrated} migrated, ${r.counts.quarantined} quarantined, ${r.counts.skipped} skipped by a reviewer's decision.</p>
<h2>Reconciliation at sign-off</h2>
<p>Source and target inventoried again at ${esc(rec.reconciledAt)}: <b>${rec.balanced ? "balanced" : "NOT balanced"}</b>.</p>
${table(["source", "studies at source", "instances at source", "migrated", "quarantined", "skipped", "remaining"], rec.sources.map((x) => [x.source, x.studiesAtSource, x.instancesAtSource, x.migrated, x.quarantined, x.skipped, x.remaining]))}
<p>Target: ${rec.target.studiesChecked} studies checked, ${rec.target.instancesPresent} of ${rec.target.instancesExpected} expected instances present.</p>
${table(["difference"], rec.differences.map((d) => [d.message]))}
<h2>Verification report</h2>
<p>${r.verification.studies} studies, ${r.verification.instances} instances, each hashed at source and target. SHA-256 of the report (imgops-migration-report/1) without its generation time: <code>${esc(r.verification.reportSha256)}</code>; check it with <code>npm run migration:reverify</code> and <code>npm run audit:verify -- --migration-report</code>.</p>
</article>`;
  const style = `body{font-family:system-ui,sans-serif;color:#0f172a;margin:24px}h1{font-size:22px}h2{font-size:16px;margin-top:18px}code{font-size:11px;word-break:break-all}
table{border-collapse:collapse;font-size:12px;margin:4px 0}th,td{border:1px solid #cbd5e1;padding:2px 6px;text-align:left}.muted{color:#64748b;font-size:12px}`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(r.name)} — signed-off migration record</title><style>${style}</style></head><body>${body}</body></html>`;
}
