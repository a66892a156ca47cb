"use server";

import { actionResult, formFields } from "../action-result";
import { rolesFor } from "../auth/permissions";
import { requireTenantRole } from "../auth/session";
import { createWebhook, removeWebhook, sendTestWebhook, WEBHOOK_EVENTS } from "./service";

export async function createWebhookAction(slug: string, _prev: unknown, form: FormData) {
  const ctx = await requireTenantRole(slug, ...rolesFor("webhooks.manage"));
  return actionResult(async () => {
    const f = formFields(form);
    const events = WEBHOOK_EVENTS.filter((e) => f[`event:${e}`] === "on");
    const created = await createWebhook(ctx, { url: f.url ?? "", events });
    return { message: "Added. Copy the signing secret now: it is not shown again.", data: created };
  });
}

export async function removeWebhookAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("webhooks.manage"));
  return actionResult(async () => {
    await removeWebhook(ctx, id);
    return { message: "Removed." };
  });
}

export async function sendTestWebhookAction(slug: string, id: string) {
  const ctx = await requireTenantRole(slug, ...rolesFor("webhooks.manage"));
  return actionResult(async () => {
    await sendTestWebhook(ctx, id);
    return { message: "Test delivery queued; see the log below." };
  });
}
