"use server";

import { revalidatePath } from "next/cache";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireSession, requireTenantRole } from "../auth/session";
import { approveVersion, setApprovalPolicy } from "./approval";
import { runSample } from "./sample-check";
import { signOff } from "./signoff";

export async function approveVersionAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.approve"));
  const user = await requireSession();
  return actionResult(async () => {
    const r = await approveVersion(ctx, user, id, formFields(form));
    revalidatePath(`/t/${ctx.tenantSlug}/migrations/${id}`);
    return { message: `Version ${r.version} approved: signed by ${r.signature.signerName} at ${r.signature.signedAt}.` };
  });
}

export async function setApprovalPolicyAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.policy"));
  return actionResult(async () => {
    const on = formFields(form).requireSecondPerson === "on";
    await setApprovalPolicy(ctx, on);
    revalidatePath(`/t/${ctx.tenantSlug}/migrations`);
    return { message: on ? "A plan version's author can no longer approve it: a second person must." : "The author of a plan version may now approve it." };
  });
}

export async function signOffAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.approve"));
  const user = await requireSession();
  return actionResult(async () => {
    const r = await signOff(ctx, user, id, formFields(form));
    revalidatePath(`/t/${ctx.tenantSlug}/migrations/${id}/record`);
    return { message: `Signed off at ${r.signedAt}; record SHA-256 ${r.recordSha256}.` };
  });
}

export async function sampleVerifyAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.approve"));
  return actionResult(async () => {
    const r = await runSample(ctx, id, formFields(form));
    revalidatePath(`/t/${ctx.tenantSlug}/migrations/${id}/record`);
    const bad = r.mismatched + r.missing;
    return { message: bad ? `${bad} of ${r.checked} sampled instances do not match the record (seed ${r.seed}).` : `All ${r.checked} sampled instances match the record (seed ${r.seed}).` };
  });
}
