import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ClaimControls } from "@/components/quarantine/claim-controls";
import { CountersignForm } from "@/components/quarantine/countersign-form";
import { DecisionPanel } from "@/components/quarantine/decision-panel";
import { HeaderPanel } from "@/components/quarantine/header-panel";
import { ageOf, categoryLabel } from "@/components/quarantine/labels";
import { Card } from "@/components/ui/card";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { formatTime } from "@/components/ui/format";
import { DicomViewer } from "@/components/viewer/dicom-viewer";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireSession, requireTenantRole } from "@/server/auth/session";
import { isRecentAuth, reauthUrl } from "@/server/auth/step-up";
import { tryEngine } from "@/server/engine/client";
import { authEnv } from "@/server/env";
import { claimItemAction, countersignItemAction, decideItemAction, previewPatchAction, releaseItemAction } from "@/server/quarantine/actions";
import { evidenceHeader, getReview, isRetryable, listQueue } from "@/server/quarantine/service";

export const metadata: Metadata = { title: "Quarantined study" };

/** Elements a category is about, highlighted in the header panel. */
const CATEGORY_TAGS: Record<string, string[]> = { character_set: ["00080005"], corrupt_pixel_data: ["7FE00010", "00280010", "00280011", "00280100", "00280008"], duplicate_uid: ["00080018"] };

export default async function QuarantineItemPage({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const p = await params;
  const ctx = await requireTenantRole(p.tenant, ...rolesFor("quarantine.view"));
  const user = await requireSession();
  const id = decodeURIComponent(p.id);
  const found = await tryEngine(() => getReview(ctx, id));
  if (!found.ok) return <EngineUnreachable message={found.message} />;
  const r = found.value;
  if (!r) notFound();
  const { item } = r;
  const base = `/t/${ctx.tenantSlug}/quarantine`;
  const here = `${base}/${item.id}`;

  const sources = r.instances.filter((i) => i.side === "source");
  const offending = sources.find((i) => i.sopInstanceUid && i.sopInstanceUid === item.evidence.sopInstanceUid) ?? sources[0];
  // Both at once: the page's response time is what delays its first image.
  const [queue, header] = await Promise.all([tryEngine(() => listQueue(ctx, { state: "open" })), offending ? evidenceHeader(ctx, item.id, offending.id) : null]);
  const ids = queue.ok ? queue.value.items.map((i) => i.id) : [];
  const at = ids.indexOf(item.id);
  const canDecide = can(ctx.roles, "quarantine.decide") && !ctx.grant && (item.state === "new" || (item.state === "escalated" && can(ctx.roles, "quarantine.decide-escalated")));
  const maxAge = authEnv().AUTH_STEP_UP_MAX_AGE_SECONDS;
  const authFresh = isRecentAuth(user.authTime, maxAge);
  const age = ageOf(item.quarantinedAt);
  const rows: [string, string][] = [
    ["Category", categoryLabel(item.category)],
    ["What went wrong", item.reason],
    ["Status", r.reviewStatus + (r.awaitingCountersignature ? " (awaiting countersignature)" : "")],
    ["Migration", item.migrationName],
    ["Source", item.sourceId],
    ["Study instance UID", item.studyInstanceUid],
    ["Study date", item.studyDate ?? "—"],
    ["Modality", item.modalities.join(", ") || "—"],
    ["Quarantined", `${formatTime(item.quarantinedAt)} (${age.label} ago)`],
  ];
  return (
    <div className="space-y-5">
      <div className="flex items-baseline justify-between">
        <h1 className="text-2xl font-semibold">Quarantined study</h1>
        <Link href={base} className="text-sm underline">Back to the queue</Link>
      </div>
      <Card title="Study">
        <dl className="grid grid-cols-[12rem_1fr] gap-y-1 text-sm" data-testid="item-summary">
          {rows.map(([k, v]) => (
            <div key={k} className="contents">
              <dt className="text-slate-500">{k}</dt>
              <dd className="break-all" data-field={k}>{v}</dd>
            </div>
          ))}
        </dl>
        <div className="mt-3">
          {can(ctx.roles, "quarantine.decide") && !ctx.grant && (item.state === "new" || item.state === "escalated") ? (
            <ClaimControls holder={r.claim?.userName ?? null} mine={r.claim?.userId === user.id} claim={claimItemAction.bind(null, ctx.tenantSlug, item.id)} release={releaseItemAction.bind(null, ctx.tenantSlug, item.id)} />
          ) : (
            <p className="text-sm text-slate-500">{r.claim ? `Claimed by ${r.claim.userName}` : ""}</p>
          )}
        </div>
      </Card>
      <div className="grid gap-5 xl:grid-cols-2">
        <Card title={`Images (${sources.length} instance${sources.length === 1 ? "" : "s"})`}>
          {sources.length ? (
            <DicomViewer
              instances={sources.map((s, n) => ({ id: s.id, url: `/api/t/${ctx.tenantSlug}/quarantine/${item.id}/instances/${s.id}`, label: `${n + 1}` }))}
              preview={`/api/t/${ctx.tenantSlug}/quarantine/${item.id}/instances/${sources[0]!.id}/preview`}
            />
          ) : (
            <p className="text-sm text-slate-500">No instances were kept for this study (the source returned none, or it was quarantined before evidence was kept).</p>
          )}
        </Card>
        <Card title={offending ? `Header of ${offending.sopInstanceUid ?? "the instance"}` : "Header"}>
          {header ? <HeaderPanel elements={header.elements} error={header.error} highlight={CATEGORY_TAGS[item.category] ?? []} /> : <p className="text-sm text-slate-500">No instance to read.</p>}
        </Card>
      </div>
      {r.diff && (
        <Card title="Source and target differ">
          <dl className="grid grid-cols-[12rem_1fr] gap-y-1 font-mono text-xs" data-testid="hashes">
            <dt className="font-sans text-slate-500">Instance</dt><dd>{r.diff.sopInstanceUid}</dd>
            <dt className="font-sans text-slate-500">Expected SHA-256</dt><dd>{r.diff.expectedSha256}</dd>
            <dt className="font-sans text-slate-500">At the target</dt><dd>{r.diff.targetSha256}</dd>
          </dl>
          <table className="mt-3 w-full text-left font-mono text-xs" data-testid="diff">
            <thead className="font-sans text-slate-500"><tr><th>Element</th><th>VR</th><th>Source (expected)</th><th>Target (stored)</th></tr></thead>
            <tbody>
              {r.diff.differences.map((d) => (
                <tr key={d.path} className="bg-red-50 dark:bg-red-950"><td>{d.name} ({d.tag.slice(0, 4)},{d.tag.slice(4)})</td><td>{d.vr}</td><td className="break-all">{d.source ?? "(absent)"}</td><td className="break-all">{d.target ?? "(absent)"}</td></tr>
              ))}
              {r.diff.differences.length === 0 && <tr><td colSpan={4} className="font-sans">No element differs in the kept copies.</td></tr>}
            </tbody>
          </table>
        </Card>
      )}
      <Card title="Decision">
        {r.awaitingCountersignature && canDecide ? (
          <CountersignForm action={countersignItemAction.bind(null, ctx.tenantSlug, item.id)} authFresh={authFresh} reauthHref={reauthUrl(here)} />
        ) : (
          <DecisionPanel
            itemId={item.id}
            decide={decideItemAction.bind(null, ctx.tenantSlug, item.id)}
            preview={previewPatchAction.bind(null, ctx.tenantSlug, item.id, offending?.id ?? null)}
            reauthHref={reauthUrl(here)}
            authFresh={authFresh}
            authAgeMinutes={Math.round((Date.now() / 1000 - user.authTime) / 60)}
            canDecide={canDecide}
            retryable={isRetryable(item.category)}
            prev={at > 0 ? ids[at - 1]! : null}
            next={at >= 0 && at < ids.length - 1 ? ids[at + 1]! : at < 0 && ids.length ? ids[0]! : null}
            base={base}
          />
        )}
        {!canDecide && <p className="mt-2 text-sm text-slate-500">{item.state === "escalated" ? "Escalated: a senior reviewer decides this study." : item.state === "new" ? "You can read this study; clinical reviewers decide it." : `This study is ${item.state}.`}</p>}
      </Card>
      <Card title="Signed decisions">
        <table className="w-full text-left text-sm" data-testid="signatures">
          <thead className="text-slate-500"><tr><th>Decision</th><th>Signed by</th><th>When</th><th>Meaning</th><th>Reason</th></tr></thead>
          <tbody>
            {r.signatures.map((s) => (
              <tr key={s.id} className="border-t border-slate-200 dark:border-slate-800">
                <td>{s.decision}{s.awaitingCountersignature ? " (awaiting countersignature)" : ""}</td>
                <td>{s.signerName} &lt;{s.signerEmail}&gt;</td>
                <td>{formatTime(s.signedAt.toISOString())}</td>
                <td>{s.meaning}</td>
                <td>{s.reason}</td>
              </tr>
            ))}
            {r.signatures.length === 0 && <tr><td colSpan={5} className="text-slate-500">No decision yet.</td></tr>}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
