import "server-only";
import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { aeTitles, tenantConfigs } from "@/db/schema";
import { AeTitle, PrivateSopClassUid } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import type { TenantContext } from "../context";
import { withTenant, type Tx } from "../db";
import { InputError, pgCode } from "../errors";
import { echoEngine } from "./echo";

export const AeTitleKind = z.enum(["called", "calling"], { error: "kind must be called or calling" });
export const AeTitleInput = z.object({ kind: AeTitleKind, aeTitle: AeTitle });

export async function listAeTitles(ctx: Pick<TenantContext, "tenantId" | "actor">) {
  const rows = await withTenant(ctx, (tx) =>
    tx.select({ kind: aeTitles.kind, aeTitle: aeTitles.aeTitle, createdAt: aeTitles.createdAt }).from(aeTitles).where(eq(aeTitles.tenantId, ctx.tenantId)).orderBy(asc(aeTitles.aeTitle)),
  );
  return { called: rows.filter((r) => r.kind === "called"), calling: rows.filter((r) => r.kind === "calling") };
}

/** Every AE-title change is a new desired config version for the worker to push. */
async function bumpVersion(tx: Tx, tenantId: string) {
  const [c] = await tx.update(tenantConfigs).set({ version: sql`${tenantConfigs.version} + 1`, updatedAt: sql`now()` }).where(eq(tenantConfigs.tenantId, tenantId)).returning();
  return c!.version;
}

export async function addAeTitle(ctx: TenantContext, input: z.input<typeof AeTitleInput>) {
  const { kind, aeTitle } = AeTitleInput.parse(input);
  try {
    return await withTenant(ctx, async (tx) => {
      await tx.insert(aeTitles).values({ tenantId: ctx.tenantId, kind, aeTitle });
      const version = await bumpVersion(tx, ctx.tenantId);
      await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
        action: "ae-titles.add",
        target: `ae-title:${kind}:${aeTitle}`,
        after: { kind, aeTitle, version },
      });
      return { kind, aeTitle, version };
    });
  } catch (e) {
    const pg = pgCode(e);
    if (pg.code === "23505" && pg.constraint_name === "ae_titles_called_unique") {
      // Deliberately not saying which tenant: that would leak another customer's name.
      throw new InputError("This called AE title already routes to another tenant. Choose a different one.", { aeTitle: ["already in use by another tenant"] });
    }
    if (pg.code === "23505") throw new InputError(`${aeTitle} is already in this list.`, { aeTitle: ["already in this list"] });
    throw e;
  }
}

export async function removeAeTitle(ctx: TenantContext, input: z.input<typeof AeTitleInput>) {
  const { kind, aeTitle } = AeTitleInput.parse(input);
  return withTenant(ctx, async (tx) => {
    const [gone] = await tx.delete(aeTitles).where(and(eq(aeTitles.tenantId, ctx.tenantId), eq(aeTitles.kind, kind), eq(aeTitles.aeTitle, aeTitle))).returning();
    if (!gone) throw new InputError(`${aeTitle} is not in this list.`);
    const version = await bumpVersion(tx, ctx.tenantId);
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "ae-titles.remove",
      target: `ae-title:${kind}:${aeTitle}`,
      before: { kind, aeTitle },
      after: { version },
    });
    return { version };
  });
}

export const PrivateSopClassInput = z.object({ uid: PrivateSopClassUid });

export async function listPrivateSopClasses(ctx: Pick<TenantContext, "tenantId" | "actor">) {
  const [c] = await withTenant(ctx, (tx) => tx.select({ uids: tenantConfigs.privateSopClasses }).from(tenantConfigs).where(eq(tenantConfigs.tenantId, ctx.tenantId)));
  return [...(c?.uids ?? [])].sort();
}

/**
 * A private storage SOP class the tenant's AE titles accept from now on (a vendor's own objects, refused
 * otherwise): a new config version for the worker to push, audited with it.
 */
export async function addPrivateSopClass(ctx: TenantContext, input: unknown) {
  const { uid } = PrivateSopClassInput.parse(input);
  return withTenant(ctx, async (tx) => {
    const [c] = await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, ctx.tenantId)).for("update");
    if (c!.privateSopClasses.includes(uid)) throw new InputError(`${uid} is already accepted.`, { uid: ["already in this list"] });
    if (c!.privateSopClasses.length >= 100) throw new InputError("At most 100 private SOP classes.", { uid: ["the list is full"] });
    await tx.update(tenantConfigs).set({ privateSopClasses: [...c!.privateSopClasses, uid] }).where(eq(tenantConfigs.tenantId, ctx.tenantId));
    const version = await bumpVersion(tx, ctx.tenantId);
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "ae-titles.private-sop-class.add",
      target: `sop-class:${uid}`,
      before: { privateSopClasses: c!.privateSopClasses },
      after: { privateSopClasses: [...c!.privateSopClasses, uid], version },
    });
    return { uid, version };
  });
}

export async function removePrivateSopClass(ctx: TenantContext, input: unknown) {
  const { uid } = PrivateSopClassInput.parse(input);
  return withTenant(ctx, async (tx) => {
    const [c] = await tx.select().from(tenantConfigs).where(eq(tenantConfigs.tenantId, ctx.tenantId)).for("update");
    if (!c!.privateSopClasses.includes(uid)) throw new InputError(`${uid} is not in this list.`);
    const left = c!.privateSopClasses.filter((u) => u !== uid);
    await tx.update(tenantConfigs).set({ privateSopClasses: left }).where(eq(tenantConfigs.tenantId, ctx.tenantId));
    const version = await bumpVersion(tx, ctx.tenantId);
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "ae-titles.private-sop-class.remove",
      target: `sop-class:${uid}`,
      before: { privateSopClasses: c!.privateSopClasses },
      after: { privateSopClasses: left, version },
    });
    return { uid, version };
  });
}

/**
 * The Test button: a C-ECHO to the engine with a called AE title, as a vendor would open the association. Any
 * valid title may be tried (whether one is in use is no secret: adding it would say so too).
 */
export async function testAeTitle(aeTitle: unknown) {
  return echoEngine(AeTitle.parse(aeTitle));
}
