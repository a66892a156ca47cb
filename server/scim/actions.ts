"use server";
import { revalidatePath } from "next/cache";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { createScimToken, revokeScimToken } from "./tokens";

/** A tenant admin creates a SCIM token: the token is in the result, once; only its SHA-256 is kept. */
export async function createScimTokenAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("members.manage"));
  return actionResult(async () => {
    const t = await createScimToken(ctx, formFields(form));
    revalidatePath(`/t/${ctx.tenantSlug}/members`);
    return { message: `Created the SCIM token ${t.name}. Copy it now: it is not shown again.`, data: { token: t.token } };
  });
}

export async function revokeScimTokenAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("members.manage"));
  return actionResult(async () => {
    const t = await revokeScimToken(ctx, id);
    revalidatePath(`/t/${ctx.tenantSlug}/members`);
    return { message: `Revoked the SCIM token ${t.name}: the identity provider's next request is refused.` };
  });
}
