import "server-only";
import { z } from "zod";
import { ResultStatus, Uid, type HeldResult } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { EngineError, engineClientFromEnv } from "../engine/client";
import { InputError } from "../errors";
import { sopClassName } from "./sop-classes";

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : typeof v === "string" ? v.trim() : v), schema.optional());
const localTime = (label: string) =>
  z.string().transform((s, c) => {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) {
      c.addIssue({ code: "custom", message: `${label} is not a date and time` });
      return z.NEVER;
    }
    return d.toISOString();
  });

/** The hold queue's URL: filters, UID search and the page cursor. */
export const HoldQueueSearch = z.object({
  status: optional(ResultStatus),
  vendor: optional(z.string().max(16, "a vendor AE title has at most 16 characters")),
  modality: optional(z.string().max(16, "a modality has at most 16 characters")),
  from: optional(localTime("From")),
  to: optional(localTime("To")),
  uid: optional(Uid),
  cursor: optional(z.string().max(200)),
});
export type HoldQueueSearch = z.infer<typeof HoldQueueSearch>;

/** Parses the URL's search params; invalid fields are reported and left out, so the page still renders. */
export function parseHoldQueueSearch(params: Record<string, string | string[] | undefined>) {
  const search: HoldQueueSearch = {};
  const raw: Record<string, string> = {};
  const errors: string[] = [];
  for (const key of Object.keys(HoldQueueSearch.shape) as (keyof HoldQueueSearch)[]) {
    const v = params[key];
    if (typeof v !== "string" || !v.trim()) continue;
    raw[key] = v;
    const one = HoldQueueSearch.shape[key].safeParse(v);
    if (one.success) Object.assign(search, { [key]: one.data });
    else errors.push(...one.error.issues.map((i) => i.message));
  }
  return { search, raw, errors };
}

export type HoldQueueRow = HeldResult & { sopClassName: string | null };
const withNames = (r: HeldResult): HoldQueueRow => ({ ...r, sopClassName: sopClassName(r.sopClassUid) });

export async function listHoldQueue(ctx: Pick<TenantContext, "tenantSlug">, s: HoldQueueSearch, limit = 50) {
  const page = await engineClientFromEnv().listResults(ctx.tenantSlug, {
    status: s.status,
    callingAe: s.vendor,
    modality: s.modality,
    receivedFrom: s.from,
    receivedTo: s.to,
    uid: s.uid,
    cursor: s.cursor,
    limit,
  });
  return { results: page.results.map(withNames), nextCursor: page.nextCursor };
}

export async function getHeldResult(ctx: Pick<TenantContext, "tenantSlug">, id: string) {
  if (!z.uuid().safeParse(id).success) return null;
  const r = await engineClientFromEnv().getResult(ctx.tenantSlug, id);
  return r ? { ...withNames(r), timeline: r.timeline } : null;
}

export const PurgeInput = z.object({
  id: z.uuid("not a result id"),
  reason: z.string().trim().min(3, "Give a reason of at least 3 characters.").max(500, "Keep the reason under 500 characters."),
});

/** The engine's refusals a person can act on, as InputErrors with its message. */
function asInput(e: unknown): never {
  if (e instanceof EngineError && e.status < 500) throw new InputError(e.message, e.fields);
  throw e;
}

/** Purges a result in the engine (bytes deleted, row and timeline kept), then records who did it and why. */
export async function purgeHeldResult(ctx: TenantContext, input: z.input<typeof PurgeInput>) {
  const { id, reason } = PurgeInput.parse(input);
  const engine = engineClientFromEnv();
  const before = await engine.getResult(ctx.tenantSlug, id);
  if (!before) throw new InputError("That result is not in this tenant's queue.");
  const after = await engine.purgeResult(ctx.tenantSlug, id, reason).catch(asInput);
  await withTenant(ctx, (tx) =>
    appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "hold-queue.purge",
      target: `result:${id}`,
      reason,
      before: { status: before.status, sopInstanceUid: before.sopInstanceUid, sha256: before.sha256 },
      after: { status: after.status },
    }),
  );
  return after;
}

export async function renotifyHeldResult(ctx: TenantContext, id: string) {
  const parsed = z.uuid("not a result id").parse(id);
  const after = await engineClientFromEnv().renotifyResult(ctx.tenantSlug, parsed).catch(asInput);
  await withTenant(ctx, (tx) =>
    appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "hold-queue.renotify", target: `result:${parsed}`, after: { status: after.status } }),
  );
  return after;
}
