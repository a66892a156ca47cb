"use server";

import { revalidatePath } from "next/cache";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { purgeHeldResult, renotifyHeldResult } from "./service";

export async function purgeResultAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("hold-queue.purge"));
  return actionResult(async () => {
    await purgeHeldResult(ctx, { id, reason: formFields(form).reason ?? "" });
    revalidatePath(`/t/${ctx.tenantSlug}/hold-queue`);
    return { message: "Purged: the result's bytes are deleted; its history stays." };
  });
}

export async function renotifyResultAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("hold-queue.purge"));
  return actionResult(async () => {
    const r = await renotifyHeldResult(ctx, id);
    const last = r.timeline.at(-1)?.payload as { routersNotified?: number } | undefined;
    return { message: `Re-notified ${last?.routersNotified ?? 0} connected router(s).` };
  });
}
