import "server-only";
import { randomBytes } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { appendAudit } from "../audit/append";
import type { TenantContext } from "../context";
import { withTenant, type Tx } from "../db";
import { InputError, NotFoundError } from "../errors";
import { encryptSecret } from "./signing";
import { webhookUrlProblem } from "./url-check";

/** "relay": a held result the router keeps failing to deliver, or a router gone silent (from the engine's events). */
export const WEBHOOK_EVENTS = ["milestone", "anomaly", "report.ready", "licence", "relay"] as const;

export const WebhookInput = z.object({
  url: z.string().trim().min(1, "Enter the receiver's URL.").max(2000),
  events: z.array(z.enum(WEBHOOK_EVENTS, { error: "Unknown event kind." })).min(1, "Choose at least one kind of event."),
});

type Scope = Pick<TenantContext, "tenantId" | "actor">;
const auditScope = (ctx: TenantContext) => ({ tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId });

/** Adds a receiver; its signing secret is returned this once and kept only encrypted. */
export async function createWebhook(ctx: TenantContext, input: z.input<typeof WebhookInput>) {
  const { url, events } = WebhookInput.parse(input);
  const problem = await webhookUrlProblem(url);
  if (problem) throw new InputError(problem, { url: [problem] });
  const secret = `whsec_${randomBytes(24).toString("base64url")}`;
  const endpoint = await withTenant(ctx, async (tx) => {
    const [row] = await tx.insert(webhookEndpoints).values({ tenantId: ctx.tenantId, url, events, secretEncrypted: encryptSecret(secret) }).returning();
    await appendAudit(tx, auditScope(ctx), { action: "webhooks.create", target: `webhook:${row!.id}`, after: { url, events } });
    return row!;
  });
  return { id: endpoint.id, secret };
}

export async function removeWebhook(ctx: TenantContext, id: string) {
  const parsed = z.uuid("not a webhook id").parse(id);
  await withTenant(ctx, async (tx) => {
    const [row] = await tx.update(webhookEndpoints).set({ removedAt: new Date() }).where(and(eq(webhookEndpoints.id, parsed), isNull(webhookEndpoints.removedAt))).returning();
    if (!row) throw new NotFoundError("No such webhook in this tenant.");
    await appendAudit(tx, auditScope(ctx), { action: "webhooks.remove", target: `webhook:${row.id}`, before: { url: row.url, events: row.events } });
  });
}

export async function listWebhooks(ctx: Scope) {
  return withTenant(ctx, async (tx) => {
    const endpoints = await tx
      .select({ id: webhookEndpoints.id, url: webhookEndpoints.url, events: webhookEndpoints.events, createdAt: webhookEndpoints.createdAt })
      .from(webhookEndpoints)
      .where(isNull(webhookEndpoints.removedAt))
      .orderBy(webhookEndpoints.createdAt);
    const deliveries = await tx.select().from(webhookDeliveries).orderBy(desc(webhookDeliveries.createdAt)).limit(100);
    return { endpoints, deliveries };
  });
}

/**
 * Records one delivery per receiver subscribed to the event's kind; the worker sends them (signed, retried with
 * backoff). Runs in the caller's transaction so an event and its deliveries are recorded together.
 */
export async function recordDeliveries(tx: Tx, tenantId: string, kind: (typeof WEBHOOK_EVENTS)[number] | "test", payload: Record<string, unknown>, only?: string) {
  // By tenant as well as by RLS: the engine-event ingest records deliveries in a system transaction, which sees all.
  const endpoints = await tx.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.tenantId, tenantId), isNull(webhookEndpoints.removedAt)));
  const targets = endpoints.filter((e) => (only ? e.id === only : e.events.includes(kind)));
  if (!targets.length) return 0;
  const body = { kind, ...payload, sentAt: undefined };
  await tx.insert(webhookDeliveries).values(targets.map((e) => ({ tenantId, endpointId: e.id, event: String(payload.event ?? kind), payload: body })));
  return targets.length;
}

/** "Send test": one delivery to that receiver now, audited. */
export async function sendTestWebhook(ctx: TenantContext, id: string) {
  const parsed = z.uuid("not a webhook id").parse(id);
  await withTenant(ctx, async (tx) => {
    const n = await recordDeliveries(tx, ctx.tenantId, "test", { event: "test", tenant: ctx.tenantSlug, message: "A test delivery from the imaging operations console." }, parsed);
    if (!n) throw new NotFoundError("No such webhook in this tenant.");
    await appendAudit(tx, auditScope(ctx), { action: "webhooks.test", target: `webhook:${parsed}` });
  });
}
