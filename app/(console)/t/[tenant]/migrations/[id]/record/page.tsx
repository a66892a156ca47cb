import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { SampleForm, SignoffForm } from "@/components/migrations/approval-forms";
import { Card } from "@/components/ui/card";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { formatTime } from "@/components/ui/format";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireSession, requireTenantRole } from "@/server/auth/session";
import { isRecentAuth, reauthUrl } from "@/server/auth/step-up";
import { engineClientFromEnv, tryEngine } from "@/server/engine/client";
import { authEnv } from "@/server/env";
import { sampleVerifyAction, signOffAction } from "@/server/migrations/approval-actions";
import { lastSample } from "@/server/migrations/sample-check";
import { SIGNOFF_MEANING, signedRecord } from "@/server/migrations/signoff";

export const metadata: Metadata = { title: "Signed-off migration record" };

export default async function SignoffRecordPage({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const { tenant, id } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("migrations.view"));
  const user = await requireSession();
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  const m = await tryEngine(() => engineClientFromEnv().getMigration(ctx.tenantSlug, id));
  if (m.ok && !m.value) notFound();
  const signed = await signedRecord(ctx, id);
  const completed = m.ok && m.value!.status === "completed";
  const sample = completed ? await lastSample(ctx, id).catch(() => null) : null;
  const here = `/t/${ctx.tenantSlug}/migrations/${id}/record`;
  return (
    <div className="space-y-5">
      <div>
        <Link href={`/t/${ctx.tenantSlug}/migrations/${id}`} className="text-sm text-sky-700 underline">← Migration</Link>
        <h1 className="text-2xl font-semibold">Signed-off migration record</h1>
        <Link href={`/t/${ctx.tenantSlug}/migrations/${id}/spot-check`} className="text-sm text-sky-700 underline">Clinical spot-check</Link>
      </div>
      {!m.ok && <EngineUnreachable message={m.message} />}
      {signed ? (
        <div className="space-y-4 text-sm" data-testid="signed-record">
          <Card title="Sign-off">
            <p data-testid="signoff-signature">
              Signed by <strong>{signed.signature.signerName}</strong> at {formatTime(signed.signature.signedAt)}: “{signed.signature.meaning}” —{" "}
              {signed.verified ? "record and signature verified" : "the record or its signature does not verify"}
            </p>
            <p>Record SHA-256 <code className="break-all text-xs" data-testid="record-hash">{signed.signature.recordSha256}</code></p>
            <a href={`/api/t/${ctx.tenantSlug}/migrations/${id}/record/pdf`} className="text-sky-700 underline">Download the record (PDF)</a>
          </Card>
          <Card title="Plan">
            <p data-testid="record-plan">
              Version {signed.record.plan.version}, SHA-256 <code className="break-all text-xs">{signed.record.plan.planSha256}</code>; written by {signed.record.plan.author ?? "(not recorded)"}, approved by {signed.record.plan.approvedBy ?? "—"} at {formatTime(signed.record.plan.approvedAt)}.
            </p>
          </Card>
          <Card title="Reconciliation at sign-off">
            <p data-testid="record-reconciliation">
              {signed.record.reconciliation.balanced ? "Balanced" : "NOT balanced"}: {signed.record.counts.migrated} migrated, {signed.record.counts.quarantined} quarantined, {signed.record.counts.skipped} skipped of {signed.record.counts.discovered} discovered; target holds {signed.record.reconciliation.target.instancesPresent} of {signed.record.reconciliation.target.instancesExpected} instances ({formatTime(signed.record.reconciliation.reconciledAt)}).
            </p>
          </Card>
          <Card title="Verification report">
            <p>
              {signed.record.verification.studies} studies, {signed.record.verification.instances} instances; report SHA-256 (without its generation time) <code className="break-all text-xs">{signed.record.verification.reportSha256}</code>
            </p>
          </Card>
        </div>
      ) : m.ok && m.value!.status !== "completed" ? (
        <p className="text-sm text-slate-500" data-testid="signoff-unavailable">The migration is {m.value!.status}: it is signed off once it has completed.</p>
      ) : can(ctx.roles, "migrations.approve") ? (
        <Card title="Sign off">
          <p className="mb-2 text-sm text-slate-600">Signing runs the reconciliation again (source and target inventoried afresh); it must balance. The record then freezes the plan version in force, that reconciliation and the verification report&apos;s hash.</p>
          <SignoffForm action={signOffAction.bind(null, ctx.tenantSlug, id)} meaning={SIGNOFF_MEANING} authFresh={isRecentAuth(user.authTime, authEnv().AUTH_STEP_UP_MAX_AGE_SECONDS)} reauthHref={reauthUrl(here)} />
        </Card>
      ) : (
        <p className="text-sm text-slate-500" data-testid="signoff-unavailable">Not signed off yet: a migration lead or the tenant admin signs it off.</p>
      )}
      {completed && (
        <Card title="Random-sample re-verification">
          <p className="mb-2 text-sm text-slate-600">Instances picked at random (by a seed, kept so anyone can pick the same ones from the exported report) are retrieved from the target now and hashed again.</p>
          {sample ? (
            <div className="mb-2 text-sm" data-testid="sample-last">
              <p>
                Last: {formatTime(sample.verifiedAt)}, seed <code>{sample.seed}</code>: <strong>{sample.matched}</strong> of {sample.checked} match{sample.mismatched ? `, ${sample.mismatched} differ` : ""}{sample.missing ? `, ${sample.missing} missing` : ""} (drawn from {sample.recorded} recorded instances).
              </p>
              {sample.results.some((r) => r.result !== "match") && (
                <table className="mt-1 text-left font-mono text-xs" data-testid="sample-failures">
                  <thead><tr><th className="pr-3">Study</th><th className="pr-3">Instance</th><th>Result</th></tr></thead>
                  <tbody>
                    {sample.results.filter((r) => r.result !== "match").map((r) => (
                      <tr key={r.targetSopInstanceUid}><td className="pr-3">{r.studyInstanceUid}</td><td className="pr-3">{r.targetSopInstanceUid}</td><td>{r.result}</td></tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          ) : (
            <p className="mb-2 text-sm text-slate-500">No sample checked yet.</p>
          )}
          {can(ctx.roles, "migrations.approve") && <SampleForm action={sampleVerifyAction.bind(null, ctx.tenantSlug, id)} />}
        </Card>
      )}
    </div>
  );
}
