"use server";

import { redirect } from "next/navigation";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { InputError } from "../errors";
import { createPlan, discover, previewTransforms, savePlanVersion, start, testConnections } from "./plans";

/** The form sends its whole draft as one JSON field: sources and rules are lists a flat form cannot hold. */
function draftOf(form: unknown): unknown {
  const f = formFields(form);
  try {
    return JSON.parse(f.draft ?? "");
  } catch {
    throw new InputError("The form could not be read; reload the page.");
  }
}
const parseDraft = (json: string): unknown => {
  try {
    return JSON.parse(json);
  } catch {
    throw new InputError("The form could not be read; reload the page.");
  }
};

export async function createPlanAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.operate"));
  const r = await actionResult(async () => {
    const m = await createPlan(ctx, draftOf(form));
    return { message: "Saved.", data: { id: m.id } };
  });
  if (r.ok) redirect(`/t/${ctx.tenantSlug}/migrations/${r.data!.id}`);
  return r;
}

export async function savePlanVersionAction(slug: string, id: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.operate"));
  const r = await actionResult(async () => {
    await savePlanVersion(ctx, id, draftOf(form));
    return { message: "Saved as a new plan version; it needs approval before it runs." };
  });
  if (r.ok) redirect(`/t/${ctx.tenantSlug}/migrations/${id}`);
  return r;
}

export async function testConnectionAction(slug: string, draftJson: string, which: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.operate"));
  return actionResult(async () => {
    const result = await testConnections(ctx, parseDraft(draftJson), which);
    return { message: result.ok ? "Connection works." : "Connection test failed.", data: result };
  });
}

export async function previewTransformsAction(slug: string, draftJson: string, sourceIndex: number) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.operate"));
  return actionResult(async () => {
    const preview = await previewTransforms(ctx, parseDraft(draftJson), sourceIndex);
    return { message: `Previewed ${preview.instances.length} of ${preview.instancesInStudy} instances of study ${preview.studyInstanceUid}.`, data: preview };
  });
}

export async function discoverAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.operate"));
  return actionResult(async () => {
    await discover(ctx, id);
    return { message: "Discovery started." };
  });
}

export async function startAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("migrations.operate"));
  return actionResult(async () => {
    await start(ctx, id);
    return { message: "Started." };
  });
}
