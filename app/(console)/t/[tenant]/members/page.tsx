import type { Metadata } from "next";
import { InviteForm, MemberControls } from "@/components/tenancy/member-forms";
import { formatTime } from "@/components/ui/format";
import { ROLE_LABELS, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { changeRoleAction, inviteMemberAction, removeMemberAction } from "@/server/tenancy/actions";
import { listMembers } from "@/server/tenancy/members";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("members.view"));
  const members = await listMembers(ctx);
  const now = Date.now();
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-2xl font-semibold">Members</h1>
        <p className="text-sm text-slate-500">People are invited by the e-mail their identity provider verifies; the invitation is taken up at their first sign-in and lapses after two weeks. The tenant always keeps one admin who has signed in, and nobody changes their own roles.</p>
      </div>
      <InviteForm action={inviteMemberAction.bind(null, ctx.tenantSlug)} />
      <table className="w-full text-left text-sm" data-testid="members">
        <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
          <tr><th className="py-2">E-mail</th><th>Role</th><th>Status</th><th /></tr>
        </thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.id} className="border-b border-slate-100 dark:border-slate-900" data-testid="member" data-email={m.email} data-role={m.role}>
              <td className="py-1.5">{m.email}</td>
              <td>{ROLE_LABELS[m.role]}</td>
              <td>
                {m.linked
                  ? "signed in"
                  : m.invitationExpiresAt && m.invitationExpiresAt.getTime() < now
                    ? `invitation lapsed ${formatTime(m.invitationExpiresAt.toISOString())}`
                    : `invited${m.invitedBy ? ` by ${m.invitedBy}` : ""}${m.invitationExpiresAt ? `, until ${formatTime(m.invitationExpiresAt.toISOString())}` : ""}`}
              </td>
              <td>
                {m.email === ctx.actor.email.toLowerCase() ? (
                  <span className="text-slate-500">you</span>
                ) : (
                  <MemberControls role={m.role} change={changeRoleAction.bind(null, ctx.tenantSlug, m.id)} remove={removeMemberAction.bind(null, ctx.tenantSlug, m.id)} />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
