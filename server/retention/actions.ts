"use server";

import type { RetentionPreview } from "@/engine/api/contract";
import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { getRetention, previewRetention, updateRetention, type RetentionState } from "./service";

export async function previewRetentionAction(slug: string, ttlDays: number) {
  const ctx = await requireTenantRole(slug, ...rolesFor("retention.view"));
  return actionResult<RetentionPreview>(async () => ({ message: "", data: await previewRetention(ctx, ttlDays) }));
}

export async function updateRetentionAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("retention.update"));
  return actionResult(async () => {
    const f = formFields(form);
    const r = await updateRetention(ctx, { ttlDays: f.ttlDays as string, expectedVersion: f.expectedVersion as string });
    return { message: r.changed ? `Saved as version ${r.version}; the engine applies it within seconds.` : "That is already the TTL; nothing changed." };
  });
}

/** For the live "pending → applied" status. */
export async function retentionStatusAction(slug: string): Promise<RetentionState> {
  const ctx = await requireTenantRole(slug, ...rolesFor("retention.view"));
  return getRetention(ctx);
}
