"use server";

import { revalidatePath } from "next/cache";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { InputError } from "../errors";
import { addAeTitle, addPrivateSopClass, removeAeTitle, removePrivateSopClass, testAeTitle } from "./service";
import type { EchoResult } from "./echo";

export async function addAeTitleAction(slug: string, kind: "called" | "calling", _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("ae-titles.update"));
  return actionResult(async () => {
    const r = await addAeTitle(ctx, { kind, aeTitle: formFields(form).aeTitle ?? "" });
    revalidatePath(`/t/${ctx.tenantSlug}/ae-titles`);
    return { message: `Added ${r.aeTitle} (configuration version ${r.version}).` };
  });
}

export async function removeAeTitleAction(slug: string, kind: "called" | "calling", aeTitle: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("ae-titles.update"));
  return actionResult(async () => {
    const r = await removeAeTitle(ctx, { kind, aeTitle });
    revalidatePath(`/t/${ctx.tenantSlug}/ae-titles`);
    return { message: `Removed ${aeTitle} (configuration version ${r.version}).` };
  });
}

export async function testAeTitleAction(slug: string, aeTitle: string) {
  await requireTenantRole(slug, ...rolesFor("ae-titles.view"));
  return actionResult<EchoResult>(async () => {
    const r = await testAeTitle(aeTitle);
    if (!r.ok) throw new InputError(r.message);
    return { message: r.message, data: r };
  });
}

export async function addPrivateSopClassAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("ae-titles.update"));
  return actionResult(async () => {
    const r = await addPrivateSopClass(ctx, { uid: formFields(form).uid ?? "" });
    revalidatePath(`/t/${ctx.tenantSlug}/ae-titles`);
    return { message: `${r.uid} is accepted from the next configuration (version ${r.version}).` };
  });
}

export async function removePrivateSopClassAction(slug: string, uid: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("ae-titles.update"));
  return actionResult(async () => {
    const r = await removePrivateSopClass(ctx, { uid });
    revalidatePath(`/t/${ctx.tenantSlug}/ae-titles`);
    return { message: `${r.uid} is refused again from the next configuration (version ${r.version}).` };
  });
}
