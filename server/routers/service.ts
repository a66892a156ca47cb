import "server-only";
import { z } from "zod";
import { AeTitle, type RouterInfo } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import type { TenantContext } from "../context";
import { withTenant } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { InputError } from "../errors";

/** A connected router not heard from for this long is flagged on the routers page. */
export const STALE_AFTER_MS = 90_000;

export type RouterRow = RouterInfo & { stale: boolean };

export async function listRouters(ctx: Pick<TenantContext, "tenantSlug">, now = Date.now()) {
  const list = await engineClientFromEnv().listRouters(ctx.tenantSlug);
  // Flagged: an active router that is offline, or connected but silent for longer than the threshold.
  const routers: RouterRow[] = list.routers.map((r) => {
    const seen = r.lastHeartbeat ?? r.connectedSince;
    return { ...r, stale: !r.revokedAt && (r.staleSince !== null || !r.connected || (seen !== null && now - Date.parse(seen) > STALE_AFTER_MS)) };
  });
  return { routers, pendingResults: list.pendingResults, enrolments: list.enrolments };
}

export const EnrollInput = z.object({
  name: z.string().trim().min(1, "Give the router a name, e.g. its site or host.").max(100, "Keep the name under 100 characters."),
  // Optional: only results sent to these called AE titles go to this router (e.g. one router per PACS).
  calledAeTitles: z
    .string()
    .default("")
    .transform((s) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean))
    .pipe(z.array(AeTitle).max(50, "At most 50 AE titles.")),
});

/**
 * Starts a router's enrolment: a one-time code (shown once, valid a day) the router presents with a CSR it makes
 * itself, so its private key never passes through the console or a browser.
 */
export async function enrollRouter(ctx: TenantContext, input: z.input<typeof EnrollInput>) {
  const { name, calledAeTitles } = EnrollInput.parse(input);
  const enrolment = await engineClientFromEnv().enrollRouter(ctx.tenantSlug, name, calledAeTitles);
  await withTenant(ctx, (tx) =>
    appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "routers.enroll",
      target: `router-enrolment:${enrolment.enrolment.id}`,
      after: { name, calledAeTitles, expiresAt: enrolment.enrolment.expiresAt },
    }),
  );
  return enrolment;
}

export async function revokeRouter(ctx: TenantContext, id: string) {
  const parsed = z.uuid("not a router id").parse(id);
  const revoked = await engineClientFromEnv().revokeRouter(ctx.tenantSlug, parsed);
  if (!revoked) throw new InputError("That router is not enrolled in this tenant, or is already revoked.");
  await withTenant(ctx, (tx) =>
    appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "routers.revoke",
      target: `router:${parsed}`,
      before: { name: revoked.name, serial: revoked.serial },
      after: { revokedAt: revoked.revokedAt },
    }),
  );
  return revoked;
}
