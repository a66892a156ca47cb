import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { PlanForm } from "@/components/migrations/plan-form";
import { draftOf } from "@/components/migrations/plan-form-draft";
import { EngineUnreachable } from "@/components/ui/engine-unreachable";
import { rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { engineClientFromEnv, tryEngine } from "@/server/engine/client";
import { previewTransformsAction, savePlanVersionAction, testConnectionAction } from "@/server/migrations/plan-form-actions";

export const metadata: Metadata = { title: "Edit migration plan" };

export default async function EditPlanPage({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const { tenant, id } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("migrations.operate"));
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  // Editing starts from the latest version (it may await approval), not the one in force.
  const m = await tryEngine(() => engineClientFromEnv().migrationVersions(ctx.tenantSlug, id).then((l) => l?.versions[0] ?? null));
  if (m.ok && !m.value) notFound();
  return (
    <div className="space-y-4">
      <div>
        <Link href={`/t/${ctx.tenantSlug}/migrations/${id}`} className="text-sm text-sky-700 underline">← Migration</Link>
        <h1 className="text-2xl font-semibold">Edit plan{m.ok ? `: ${m.value!.plan.name} (from version ${m.value!.version})` : ""}</h1>
        <p className="text-sm text-slate-500">Saving makes a new plan version; it runs once someone else approves it.</p>
      </div>
      {!m.ok ? (
        <EngineUnreachable message={m.message} />
      ) : (
        <PlanForm
          initial={draftOf(m.value!.plan)}
          submitLabel="Save new version"
          save={savePlanVersionAction.bind(null, ctx.tenantSlug, id)}
          testConnection={testConnectionAction.bind(null, ctx.tenantSlug)}
          preview={previewTransformsAction.bind(null, ctx.tenantSlug)}
        />
      )}
    </div>
  );
}
