"use server";

import { revalidatePath } from "next/cache";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireSession, requireTenantRole } from "../auth/session";
import { createSpotCheckList, signSpotCheck } from "./spot-check";

export async function createSpotCheckListAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.approve"));
  return actionResult(async () => {
    const list = await createSpotCheckList(ctx, id, formFields(form));
    revalidatePath(`/t/${ctx.tenantSlug}/migrations/${id}/spot-check`);
    return { message: `Picked ${(list.studies as unknown[]).length} studies (seed ${list.seed}) for reviewers to look at.` };
  });
}

export async function signSpotCheckAction(slug: string, id: string, studyUid: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.decide"));
  const user = await requireSession();
  return actionResult(async () => {
    const r = await signSpotCheck(ctx, user, id, studyUid, formFields(form));
    revalidatePath(`/t/${ctx.tenantSlug}/migrations/${id}/spot-check`);
    return { message: `Signed as looked at by ${r.signerName} at ${r.signedAt.toISOString()}.` };
  });
}
