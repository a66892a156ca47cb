"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireSession, requireTenantRole } from "../auth/session";
import { InputError } from "../errors";
import { checkPatch, previewPatch } from "./patch";
import { claimItem, countersignItem, decideBatch, decideItem, evidenceHeader, releaseItem, setReviewPolicy } from "./service";

// Every action resolves the tenant and role from the session (never from its arguments) before calling a verb;
// the verbs check again, so a direct call (a replayed `next-action` request) gets the same answer as the UI.

const patchFrom = (raw: string | undefined) => {
  try {
    return raw ? (JSON.parse(raw) as unknown) : undefined;
  } catch {
    throw new InputError("The patch is not valid JSON.");
  }
};

export async function claimItemAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.decide"));
  return actionResult(async () => {
    await claimItem(ctx, id);
    revalidatePath(`/t/${ctx.tenantSlug}/quarantine`);
    return { message: "Claimed: this study is yours to decide." };
  });
}

export async function releaseItemAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.decide"));
  return actionResult(async () => {
    await releaseItem(ctx, id);
    revalidatePath(`/t/${ctx.tenantSlug}/quarantine`);
    return { message: "Released." };
  });
}

export async function decideItemAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.decide"));
  const user = await requireSession();
  return actionResult(async () => {
    const f = formFields(form);
    const r = await decideItem(ctx, user, id, { decision: f.decision, reason: f.reason, meaning: f.meaning, patch: patchFrom(f.patch) });
    revalidatePath(`/t/${ctx.tenantSlug}/quarantine`);
    return { message: r.awaitingCountersignature ? `Signed by ${r.signature.signerName}; the repair waits for a second reviewer's countersignature.` : `Signed by ${r.signature.signerName} at ${r.signature.signedAt}.`, data: r.signature };
  });
}

export async function countersignItemAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.decide"));
  const user = await requireSession();
  return actionResult(async () => {
    const s = await countersignItem(ctx, user, id, formFields(form).meaning);
    revalidatePath(`/t/${ctx.tenantSlug}/quarantine`);
    return { message: `Countersigned by ${s.signerName}; the engine re-runs the study with the patch.`, data: s };
  });
}

export async function decideBatchAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.decide"));
  const user = await requireSession();
  return actionResult(async () => {
    const f = formFields(form);
    const ids = z.array(z.string()).parse(patchFrom(f.items) ?? []);
    const r = await decideBatch(ctx, user, ids, { decision: f.decision, reason: f.reason, meaning: f.meaning, patch: patchFrom(f.patch) });
    revalidatePath(`/t/${ctx.tenantSlug}/quarantine`);
    return { message: `Signed ${r.signatures.length} decision(s) in one ceremony.`, data: r };
  });
}

/** Validates a repair patch against the dictionary and shows the header values before and after. */
export async function previewPatchAction(slug: string, id: string, evidenceId: string | null, patch: unknown) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.decide"));
  return actionResult(async () => {
    const { ops, fields } = checkPatch(patch);
    if (Object.keys(fields).length) throw new InputError("Fix the patch.", fields);
    const header = evidenceId ? await evidenceHeader(ctx, id, evidenceId) : null;
    return { message: "The patch is valid.", data: previewPatch(ops, header?.elements ?? []) };
  });
}

export async function setReviewPolicyAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("quarantine.policy"));
  return actionResult(async () => {
    const on = formFields(form).requireCountersignature === "on";
    await setReviewPolicy(ctx, on);
    revalidatePath(`/t/${ctx.tenantSlug}/quarantine`);
    return { message: on ? "Repairs now need a second reviewer's countersignature." : "Repairs no longer need a countersignature." };
  });
}
