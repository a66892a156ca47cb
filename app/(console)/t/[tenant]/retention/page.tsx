import type { Metadata } from "next";
import { RetentionForm } from "@/components/retention/retention-form";
import { can, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { previewRetentionAction, retentionStatusAction, updateRetentionAction } from "@/server/retention/actions";
import { getRetention } from "@/server/retention/service";

export const metadata: Metadata = { title: "Retention" };

export default async function RetentionPage({ params }: { params: Promise<{ tenant: string }> }) {
  const ctx = await requireTenantRole((await params).tenant, ...rolesFor("retention.view"));
  const state = await getRetention(ctx);
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-2xl font-semibold">Retention</h1>
        <p className="text-sm text-slate-600 dark:text-slate-400">How long a result waits for your router before it is deleted unread. Changing it recomputes the expiry of every result still in the queue.</p>
      </div>
      <RetentionForm
        initial={state}
        canUpdate={can(ctx.roles, "retention.update")}
        preview={previewRetentionAction.bind(null, ctx.tenantSlug)}
        save={updateRetentionAction.bind(null, ctx.tenantSlug)}
        status={retentionStatusAction.bind(null, ctx.tenantSlug)}
      />
    </div>
  );
}
