"use server";

import { redirect } from "next/navigation";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireEngineer, requireTenantRole } from "../auth/session";
import { reauthUrl } from "../auth/step-up";
import { readDraft, sealDraft } from "./draft";
import { approveGrant, denyGrant, endGrant, GrantRequest, requestGrant, revokeGrant, updatePolicy } from "./service";

/**
 * Step one of a grant: the request is checked, sealed (encrypted, bound to this engineer, ten minutes) and the
 * engineer is sent to re-authenticate at the IdP. Only a sign-in made after this moment can open the grant.
 */
export async function prepareGrantAction(_prev: unknown, form: FormData) {
  const user = await requireEngineer();
  const parsed = await actionResult(async () => ({ message: "", data: GrantRequest.parse(formFields(form)) }));
  if (!parsed.ok) return parsed;
  const draft = await sealDraft(user.id, parsed.data as GrantRequest);
  redirect(reauthUrl(`/ops/break-glass/confirm?draft=${encodeURIComponent(draft)}`));
}

export async function confirmGrantAction(token: string) {
  const { user, draft, steppedUp } = await readDraft(token);
  if (!draft) return { ok: false as const, message: "This request has expired or is not yours. Start again from Operations." };
  if (!steppedUp) redirect(reauthUrl(`/ops/break-glass/confirm?draft=${encodeURIComponent(token)}`));
  const result = await actionResult(async () => {
    const { grant, tenantSlug } = await requestGrant(user, draft.request);
    return { message: grant.status === "active" ? "active" : "pending", data: { tenantSlug, status: grant.status } };
  });
  if (result.ok && result.message === "active") redirect(`/t/${(result.data as { tenantSlug: string }).tenantSlug}/hold-queue`);
  if (result.ok) redirect("/ops?requested=pending");
  return result;
}

export async function endGrantAction(grantId: string) {
  const user = await requireEngineer();
  const r = await actionResult(async () => ({ message: "ended", data: await endGrant(user, grantId) }));
  if (r.ok) redirect("/ops?ended=1");
  return r;
}

export async function approveGrantAction(slug: string, grantId: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("break-glass.manage"));
  return actionResult(async () => (await approveGrant(ctx, grantId), { message: "Approved: the engineer has access now." }));
}

export async function denyGrantAction(slug: string, grantId: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("break-glass.manage"));
  return actionResult(async () => (await denyGrant(ctx, grantId), { message: "Denied." }));
}

export async function revokeGrantAction(slug: string, grantId: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("break-glass.manage"));
  return actionResult(async () => (await revokeGrant(ctx, grantId, "revoked by the tenant"), { message: "Revoked: the engineer's next request is refused." }));
}

export async function updatePolicyAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("break-glass.manage"));
  return actionResult(async () => {
    const f = formFields(form);
    await updatePolicy(ctx, { requireApproval: f.requireApproval === "on", approvalWindowMinutes: f.approvalWindowMinutes as string });
    return { message: "Saved." };
  });
}
