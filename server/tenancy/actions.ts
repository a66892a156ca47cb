"use server";

import { revalidatePath } from "next/cache";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireEngineer, requireTenantRole } from "../auth/session";
import { changeRole, inviteMember, removeMember } from "./members";
import { createTenantAsEngineer, setTenantSuspension } from "./operations";
import { cancelOffboarding, completeOffboarding, requestOffboarding } from "./offboarding";

export async function createTenantAction(_prev: unknown, form: FormData) {
  const user = await requireEngineer();
  return actionResult(async () => {
    const t = await createTenantAsEngineer(user, formFields(form));
    revalidatePath("/ops");
    return { message: `Created ${t.name} (${t.slug}); its admin is invited and the engine gets its configuration within a minute.` };
  });
}

export async function suspendTenantAction(slug: string, _prev: unknown, form: FormData) {
  const user = await requireEngineer();
  return actionResult(async () => {
    const t = await setTenantSuspension(user, slug, true, formFields(form));
    revalidatePath("/ops");
    return { message: `Suspended ${t.name}: the engine refuses its AE titles and disconnects its routers within seconds. Nothing held is deleted.` };
  });
}

export async function reactivateTenantAction(slug: string, _prev: unknown, form: FormData) {
  const user = await requireEngineer();
  return actionResult(async () => {
    const t = await setTenantSuspension(user, slug, false, formFields(form));
    revalidatePath("/ops");
    return { message: `Reactivated ${t.name}: the engine accepts its studies and routers again within seconds.` };
  });
}

export async function requestOffboardingAction(slug: string, _prev: unknown, form: FormData) {
  const user = await requireEngineer();
  return actionResult(async () => {
    const t = await requestOffboarding(user, slug, formFields(form));
    revalidatePath("/ops");
    return { message: `Offboarding ${t.name} is requested. Nothing is deleted yet; it can be confirmed from ${t.dueAt.toISOString().replace("T", " ").slice(0, 16)} UTC, or cancelled until then.` };
  });
}

export async function cancelOffboardingAction(slug: string) {
  const user = await requireEngineer();
  return actionResult(async () => {
    const t = await cancelOffboarding(user, slug);
    revalidatePath("/ops");
    return { message: `Offboarding ${t.name} is cancelled; it stays suspended with all its data.` };
  });
}

export async function completeOffboardingAction(slug: string, _prev: unknown, form: FormData) {
  const user = await requireEngineer();
  return actionResult(async () => {
    const { tenant, receipt } = await completeOffboarding(user, slug, formFields(form));
    revalidatePath("/ops");
    return { message: `${tenant.name} is offboarded: ${receipt.resultsPurged} held result(s) purged, ${receipt.routersRevoked} router(s) revoked, its data key destroyed. Its audit log is kept.` };
  });
}

export async function inviteMemberAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("members.manage"));
  return actionResult(async () => {
    const m = await inviteMember(ctx, formFields(form));
    revalidatePath(`/t/${ctx.tenantSlug}/members`);
    return { message: `Invited ${m.email} as ${m.role}; the invitation is taken up at their first sign-in.` };
  });
}

export async function changeRoleAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("members.manage"));
  return actionResult(async () => {
    const m = await changeRole(ctx, id, formFields(form).role);
    revalidatePath(`/t/${ctx.tenantSlug}/members`);
    return { message: `${m.email} is now ${m.role}.` };
  });
}

export async function removeMemberAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("members.manage"));
  return actionResult(async () => {
    await removeMember(ctx, id);
    revalidatePath(`/t/${ctx.tenantSlug}/members`);
    return { message: "Removed." };
  });
}
