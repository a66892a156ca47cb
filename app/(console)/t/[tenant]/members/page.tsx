import type { Metadata } from "next";
import { InviteForm, MemberControls } from "@/components/tenancy/member-forms";
import { RevokeScimToken, ScimTokenForm } from "@/components/tenancy/scim-forms";
import { formatTime } from "@/components/ui/format";
import { ROLE_LABELS, rolesFor } from "@/server/auth/permissions";
import { requireTenantRole } from "@/server/auth/session";
import { changeRoleAction, inviteMemberAction, removeMemberAction } from "@/server/tenancy/actions";
import { listMembers } from "@/server/tenancy/members";
import { createScimTokenAction, revokeScimTokenAction } from "@/server/scim/actions";
import { listScimTokens } from "@/server/scim/tokens";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const ctx = await requireTenantRole(tenant, ...rolesFor("members.view"));
  const members = await listMembers(ctx);
  const tokens = await listScimTokens(ctx);
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
      <section className="space-y-3" data-testid="scim">
        <h2 className="text-lg font-semibold">Provisioning (SCIM 2.0)</h2>
        <p className="text-sm text-slate-500">
          An identity provider (Entra ID, Okta) provisions and deprovisions this tenant&apos;s members at <code>/scim/v2</code> with a bearer token made here. Its groups are the roles
          (<code>tenant_admin</code>, <code>clinical_reviewer</code>, <code>senior_reviewer</code>, <code>migration_operator</code>); deactivating a person removes their roles and ends their sessions at once. The token is shown once; only its hash is kept.
        </p>
        <ScimTokenForm action={createScimTokenAction.bind(null, ctx.tenantSlug)} />
        <table className="w-full text-left text-sm" data-testid="scim-tokens">
          <thead className="border-b border-slate-200 text-slate-500 dark:border-slate-800">
            <tr><th className="py-2">Name</th><th>Default role</th><th>Created</th><th>Last used</th><th /></tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id} className="border-b border-slate-100 dark:border-slate-900" data-testid="scim-token" data-name={t.name}>
                <td className="py-1.5">{t.name}</td>
                <td>{t.defaultRole ? ROLE_LABELS[t.defaultRole] : "none"}</td>
                <td>{formatTime(t.createdAt.toISOString())} by {t.createdBy}</td>
                <td>{t.lastUsedAt ? formatTime(t.lastUsedAt.toISOString()) : "never"}</td>
                <td>{t.revokedAt ? <span className="text-slate-500">revoked {formatTime(t.revokedAt.toISOString())}</span> : <RevokeScimToken revoke={revokeScimTokenAction.bind(null, ctx.tenantSlug, t.id)} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
