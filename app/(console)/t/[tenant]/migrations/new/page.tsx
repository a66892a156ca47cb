import type { Metadata } from "next";
import Link from "next/link";
import { PlanForm } from "@/components/migrations/plan-form";
import { rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { createPlanAction, previewTransformsAction, testConnectionAction } from "@/server/migrations/plan-form-actions";

export const metadata: Metadata = { title: "New migration" };

export default async function NewMigrationPage({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("migrations.operate"));
  return (
    <div className="space-y-4">
      <div>
        <Link href={`/t/${ctx.tenantSlug}/migrations`} className="text-sm text-sky-700 underline">← Migrations</Link>
        <h1 className="text-2xl font-semibold">New migration</h1>
      </div>
      <PlanForm
        submitLabel="Save plan"
        save={createPlanAction.bind(null, ctx.tenantSlug)}
        testConnection={testConnectionAction.bind(null, ctx.tenantSlug)}
        preview={previewTransformsAction.bind(null, ctx.tenantSlug)}
      />
    </div>
  );
}
