import "server-only";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { quarantineClaims, quarantinePolicies, quarantineSignatures } from "@/db/schema";
import { QuarantineCategory, QuarantineItemId, QuarantineState, RETRYABLE_CATEGORIES } from "@/engine/api/contract";
import { appendAudit } from "../audit/append";
import { can } from "../auth/permissions";
import type { SignedInUser } from "../auth/session";
import { requireFreshAuth } from "../auth/step-up";
import type { TenantContext } from "../context";
import { withTenant, type Tx } from "../db";
import { engineClientFromEnv } from "../engine/client";
import { ForbiddenError, InputError } from "../errors";
import { checkPatch } from "./patch";
import { bindSignature } from "./signature";

export const QueueSearch = z.object({
  category: QuarantineCategory.optional().catch(undefined),
  state: z.enum(["open", ...QuarantineState.options]).default("open").catch("open"),
  // A malformed cursor in the URL starts at the first page rather than failing the page.
  cursor: z.string().max(500).optional().catch(undefined),
});
export type QueueSearch = z.infer<typeof QueueSearch>;

export const MEANINGS = {
  repair: "I approve this repair",
  retry: "I confirm this study is retried unchanged",
  skip: "I confirm this study is excluded",
  escalate: "I refer this study to a senior reviewer",
  countersign: "I countersign this repair",
} as const;

export const DecisionInput = z.object({
  decision: z.enum(["repair", "retry", "skip", "escalate"], { error: "Choose repair, retry, skip or escalate." }),
  reason: z.string().trim().min(3, "Give a reason (at least 3 characters).").max(2000, "At most 2000 characters."),
  meaning: z.string().trim().min(3, "State what your signature means.").max(200),
  patch: z.unknown().optional(),
});
export type DecisionInput = z.infer<typeof DecisionInput>;

const engine = () => engineClientFromEnv();
const itemIdOf = (id: string) => {
  const r = QuarantineItemId.safeParse(id);
  if (!r.success) throw new InputError("Not a quarantine item.");
  return r.data;
};

/** The queue, oldest first, with who claimed each item. */
export async function listQueue(ctx: TenantContext, search: QueueSearch) {
  const page = await engine().listQuarantine(ctx.tenantSlug, { category: search.category, state: search.state, cursor: search.cursor });
  const ids = page.items.map((i) => i.id);
  const [claims, pending] = ids.length
    ? await withTenant(ctx, async (tx) => [
        await tx.select().from(quarantineClaims).where(inArray(quarantineClaims.itemId, ids)),
        await awaitingCountersignature(tx, ids),
      ])
    : [[], new Set<string>()];
  const claimed = new Map(claims.map((c) => [c.itemId, c]));
  return {
    ...page,
    items: page.items.map((i) => ({ ...i, claim: claimed.get(i.id) ?? null, reviewStatus: reviewStatus(i.state, claimed.has(i.id), (pending as Set<string>).has(i.id)) })),
  };
}

/** The issue's review status: new, claimed, decided (awaiting countersignature or re-running), escalated, resolved. */
function reviewStatus(state: z.infer<typeof QuarantineState>, claimed: boolean, awaiting: boolean) {
  if (state === "resolved" || state === "skipped") return "resolved";
  if (state === "repairing" || awaiting) return "decided";
  if (state === "escalated") return "escalated";
  return claimed ? "claimed" : "new";
}

async function awaitingCountersignature(tx: Tx, ids: string[]) {
  const rows = await tx.select().from(quarantineSignatures).where(inArray(quarantineSignatures.itemId, ids)).orderBy(quarantineSignatures.signedAt);
  const waiting = new Set<string>();
  for (const r of rows) {
    if (r.awaitingCountersignature) waiting.add(r.itemId);
    if (r.decision === "countersign") waiting.delete(r.itemId);
  }
  return waiting;
}

/** One item for the review screen, or null (404) when it is not this tenant's. */
export async function getReview(ctx: TenantContext, id: string) {
  if (!QuarantineItemId.safeParse(id).success) return null;
  const itemId = itemIdOf(id);
  const detail = await engine().getQuarantineItem(ctx.tenantSlug, itemId);
  if (!detail) return null;
  const diff = detail.item.category === "hash_mismatch" ? await engine().evidenceDiff(ctx.tenantSlug, itemId) : null;
  const { claim, signatures, policy, awaiting } = await withTenant(ctx, async (tx) => ({
    claim: (await tx.select().from(quarantineClaims).where(eq(quarantineClaims.itemId, itemId)))[0] ?? null,
    signatures: await tx.select().from(quarantineSignatures).where(eq(quarantineSignatures.itemId, itemId)).orderBy(desc(quarantineSignatures.signedAt)),
    policy: (await tx.select().from(quarantinePolicies))[0] ?? { requireCountersignature: false },
    awaiting: (await awaitingCountersignature(tx, [itemId])).has(itemId),
  }));
  return { ...detail, diff, claim, signatures, policy, awaitingCountersignature: awaiting, reviewStatus: reviewStatus(detail.item.state, !!claim, awaiting) };
}

export async function evidenceHeader(ctx: TenantContext, id: string, evidenceId: string) {
  return engine().evidenceHeader(ctx.tenantSlug, itemIdOf(id), z.uuid().parse(evidenceId));
}

export async function evidenceBytes(ctx: TenantContext, id: string, evidenceId: string) {
  const parsed = z.uuid().safeParse(evidenceId);
  if (!parsed.success) return null;
  return engine().evidenceBytes(ctx.tenantSlug, itemIdOf(id), parsed.data);
}

/** A PNG preview of an evidence instance's first frame, or null (no such instance, or the engine cannot render it). */
export async function evidencePreview(ctx: TenantContext, id: string, evidenceId: string) {
  const parsed = z.uuid().safeParse(evidenceId);
  if (!parsed.success) return null;
  return engine().evidencePreview(ctx.tenantSlug, itemIdOf(id), parsed.data);
}

function mayDecide(ctx: TenantContext) {
  // Engineers act through a grant role, which never holds quarantine.decide: they can read, never sign.
  if (ctx.grant || !can(ctx.roles, "quarantine.decide")) throw new ForbiddenError("Only clinical and senior reviewers decide quarantined studies.");
}

/** Takes an item so no other reviewer works it; a reviewer may take over one claimed by someone else only by releasing first. */
export async function claimItem(ctx: TenantContext, id: string) {
  mayDecide(ctx);
  const itemId = itemIdOf(id);
  const item = await engine().getQuarantineItem(ctx.tenantSlug, itemId);
  if (!item) throw new InputError("No such quarantined study.");
  return withTenant(ctx, async (tx) => {
    const [taken] = await tx
      .insert(quarantineClaims)
      .values({ tenantId: ctx.tenantId, itemId, userId: ctx.actor.userId, userName: ctx.actor.name })
      .onConflictDoNothing()
      .returning();
    if (!taken) {
      const [holder] = await tx.select().from(quarantineClaims).where(eq(quarantineClaims.itemId, itemId));
      if (holder?.userId === ctx.actor.userId) return holder;
      throw new InputError(`${holder?.userName ?? "Another reviewer"} is already working on this study.`);
    }
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "quarantine.claim", target: `quarantine:${itemId}`, after: { studyInstanceUid: item.item.studyInstanceUid } });
    return taken;
  });
}

export async function releaseItem(ctx: TenantContext, id: string) {
  mayDecide(ctx);
  const itemId = itemIdOf(id);
  return withTenant(ctx, async (tx) => {
    const gone = await tx.delete(quarantineClaims).where(and(eq(quarantineClaims.itemId, itemId), eq(quarantineClaims.userId, ctx.actor.userId))).returning();
    if (!gone.length) throw new InputError("You do not hold this study.");
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "quarantine.release", target: `quarantine:${itemId}` });
  });
}

type Item = NonNullable<Awaited<ReturnType<ReturnType<typeof engine>["getQuarantineItem"]>>>["item"];

/** Records one signed decision (signature row + audit entry in one transaction) and hands it to the engine. */
async function signAndSend(ctx: TenantContext, user: SignedInUser, item: Item, d: { decision: "repair" | "retry" | "skip" | "escalate"; reason: string; meaning: string; patch: unknown }, opts: { batchId?: string; awaitCountersignature: boolean }) {
  const signedAt = new Date();
  const authTime = new Date(user.authTime * 1000);
  return withTenant(ctx, async (tx) => {
    const [claim] = await tx.select().from(quarantineClaims).where(eq(quarantineClaims.itemId, item.id)).for("update");
    if (claim && claim.userId !== user.id) throw new InputError(`${claim.userName} is working on this study; only they can decide it.`);
    const content = {
      tenantId: ctx.tenantId,
      itemId: item.id,
      decision: d.decision,
      meaning: d.meaning,
      reason: d.reason,
      patch: d.patch ?? null,
      signerUserId: user.id,
      signerName: user.name,
      signedAt: signedAt.toISOString(),
      authTime: authTime.toISOString(),
    };
    const [sig] = await tx
      .insert(quarantineSignatures)
      .values({
        tenantId: ctx.tenantId,
        itemId: item.id,
        studyInstanceUid: item.studyInstanceUid,
        decision: d.decision,
        meaning: d.meaning,
        reason: d.reason,
        patch: d.patch ?? null,
        signerUserId: user.id,
        signerName: user.name,
        signerEmail: user.email,
        signedAt,
        authTime,
        batchId: opts.batchId,
        awaitingCountersignature: opts.awaitCountersignature,
        binding: bindSignature(content),
      })
      .returning();
    const signature = { id: sig!.id, signerName: user.name, signerEmail: user.email, signedAt: content.signedAt, authTime: content.authTime, meaning: d.meaning, binding: sig!.binding };
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: `quarantine.${d.decision}`,
      target: `quarantine:${item.id}`,
      reason: d.reason,
      before: { state: item.state, category: item.category },
      after: { studyInstanceUid: item.studyInstanceUid, decision: d.decision, patch: d.patch ?? null, batchId: opts.batchId ?? null, awaitingCountersignature: opts.awaitCountersignature, signature },
    });
    // Last in the transaction: if the engine refuses, the signature and its audit entry are not recorded either.
    if (!opts.awaitCountersignature) {
      await engine().decideQuarantineItem(ctx.tenantSlug, item.id, {
        decision: d.decision,
        reason: d.reason,
        ...(d.decision === "repair" ? { patch: d.patch as never } : {}),
        signer: { userId: user.id, name: user.name, email: user.email, meaning: d.meaning, signatureId: sig!.id, signedAt: content.signedAt },
      });
    }
    if (d.decision !== "escalate") await tx.delete(quarantineClaims).where(eq(quarantineClaims.itemId, item.id));
    return signature;
  });
}

async function openItem(ctx: TenantContext, id: string) {
  const itemId = itemIdOf(id);
  const found = await engine().getQuarantineItem(ctx.tenantSlug, itemId);
  if (!found) throw new InputError("No such quarantined study.");
  const item = found.item;
  if (item.state !== "new" && item.state !== "escalated") throw new InputError(`This study is ${item.state}; there is nothing to decide.`);
  if (item.state === "escalated" && !can(ctx.roles, "quarantine.decide-escalated")) throw new ForbiddenError("This study was escalated: a senior reviewer decides it.");
  return item;
}

function parseDecision(input: unknown) {
  const d = DecisionInput.parse(input);
  // Retry is not repair: it sends the study as it is, so a tag patch is refused rather than dropped.
  if (d.decision === "retry" && Array.isArray(d.patch) && d.patch.length) throw new InputError("A retry sends the study unchanged; a tag patch makes it a repair.", { patch: ["a retry takes no tag patch"] });
  if (d.decision !== "repair") return { ...d, patch: null };
  const { ops, fields } = checkPatch(d.patch);
  if (Object.keys(fields).length) throw new InputError("Fix the patch before signing.", fields);
  return { ...d, patch: ops.map((o) => (o.op === "remove" ? { op: o.op, tag: o.tag } : { op: o.op, tag: o.tag, value: o.value })) };
}

async function requiresCountersignature(ctx: TenantContext) {
  const [p] = await withTenant(ctx, (tx) => tx.select().from(quarantinePolicies));
  return p?.requireCountersignature ?? false;
}

/** Only a transient cause (source or target away, a study served short) is retried unchanged; the engine agrees. */
export const isRetryable = (category: string) => (RETRYABLE_CATEGORIES as readonly string[]).includes(category);
function mayRetry(category: string) {
  if (!isRetryable(category)) throw new InputError("A study quarantined for what it contains fails the same way if it is sent again unchanged: repair it with a tag patch, or skip it.");
}

/** A reviewer's signed decision on one study. */
export async function decideItem(ctx: TenantContext, user: SignedInUser, id: string, input: unknown) {
  mayDecide(ctx);
  const d = parseDecision(input);
  requireFreshAuth(user);
  const item = await openItem(ctx, id);
  if (d.decision === "retry") mayRetry(item.category);
  const awaitCountersignature = d.decision === "repair" && (await requiresCountersignature(ctx));
  if (awaitCountersignature && (await withTenant(ctx, (tx) => awaitingCountersignature(tx, [item.id]))).has(item.id))
    throw new InputError("A repair of this study is already waiting for a countersignature.");
  const signature = await signAndSend(ctx, user, item, d, { awaitCountersignature });
  return { signature, awaitingCountersignature: awaitCountersignature };
}

/** A second reviewer countersigns a repair that the tenant's policy holds back; then the engine applies it. */
export async function countersignItem(ctx: TenantContext, user: SignedInUser, id: string, meaningInput: unknown) {
  mayDecide(ctx);
  const meaning = z.string().trim().min(3, "State what your signature means.").max(200).parse(meaningInput);
  requireFreshAuth(user);
  const item = await openItem(ctx, id);
  return withTenant(ctx, async (tx) => {
    // Signatures are append-only (no UPDATE privilege, so no FOR UPDATE): an advisory lock serializes countersigning.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`countersign:${item.id}`}))`);
    const rows = await tx.select().from(quarantineSignatures).where(eq(quarantineSignatures.itemId, item.id)).orderBy(desc(quarantineSignatures.signedAt));
    const repair = rows.find((r) => r.awaitingCountersignature);
    if (!repair || rows.some((r) => r.decision === "countersign" && r.countersigns === repair.id)) throw new InputError("There is no repair of this study waiting for a countersignature.");
    if (repair.signerUserId === user.id) throw new ForbiddenError("A countersignature must come from a second reviewer.");
    const signedAt = new Date();
    const authTime = new Date(user.authTime * 1000);
    const content = { tenantId: ctx.tenantId, itemId: item.id, decision: "countersign", meaning, reason: repair.reason, patch: repair.patch, signerUserId: user.id, signerName: user.name, signedAt: signedAt.toISOString(), authTime: authTime.toISOString(), countersigns: repair.id };
    const [sig] = await tx
      .insert(quarantineSignatures)
      .values({ tenantId: ctx.tenantId, itemId: item.id, studyInstanceUid: item.studyInstanceUid, decision: "countersign", meaning, reason: repair.reason, patch: repair.patch, signerUserId: user.id, signerName: user.name, signerEmail: user.email, signedAt, authTime, countersigns: repair.id, binding: bindSignature(content) })
      .returning();
    const signature = { id: sig!.id, signerName: user.name, signerEmail: user.email, signedAt: content.signedAt, authTime: content.authTime, meaning, binding: sig!.binding, countersigns: repair.id };
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "quarantine.countersign", target: `quarantine:${item.id}`, reason: repair.reason, after: { studyInstanceUid: item.studyInstanceUid, patch: repair.patch, signature } });
    await engine().decideQuarantineItem(ctx.tenantSlug, item.id, {
      decision: "repair",
      reason: `${repair.reason} (countersigned by ${user.name}, ${content.signedAt}: ${meaning})`,
      patch: repair.patch as never,
      signer: { userId: repair.signerUserId, name: repair.signerName, email: repair.signerEmail, meaning: repair.meaning, signatureId: repair.id, signedAt: repair.signedAt.toISOString() },
    });
    await tx.delete(quarantineClaims).where(eq(quarantineClaims.itemId, item.id));
    return signature;
  });
}

/** What makes items "the same problem" for a bulk decision: the category and the reason with identifiers masked. */
export const patternOf = (i: { category: string; reason: string }) => `${i.category}: ${i.reason.replace(/[0-9][0-9.]{5,}/g, "#").replace(/\d+/g, "n")}`;

/** One review of a pattern, one signing ceremony, one signature per item. */
export async function decideBatch(ctx: TenantContext, user: SignedInUser, ids: string[], input: unknown) {
  mayDecide(ctx);
  const unique = [...new Set(z.array(z.string()).min(1, "Select at least one study.").max(100, "At most 100 studies at once.").parse(ids))];
  const d = parseDecision(input);
  requireFreshAuth(user);
  const items = await Promise.all(unique.map((id) => openItem(ctx, id)));
  const patterns = new Set(items.map(patternOf));
  if (patterns.size > 1) throw new InputError("A bulk decision needs studies of one category and one pattern; these differ.");
  if (d.decision === "retry") mayRetry(items[0]!.category);
  const awaitCountersignature = d.decision === "repair" && (await requiresCountersignature(ctx));
  const batchId = crypto.randomUUID();
  const signatures = [];
  for (const item of items) signatures.push(await signAndSend(ctx, user, item, d, { batchId, awaitCountersignature }));
  return { batchId, signatures };
}

export async function setReviewPolicy(ctx: TenantContext, requireCountersignature: boolean) {
  if (ctx.grant || !can(ctx.roles, "quarantine.policy")) throw new ForbiddenError();
  return withTenant(ctx, async (tx) => {
    const [before] = await tx.select().from(quarantinePolicies);
    await tx.insert(quarantinePolicies).values({ tenantId: ctx.tenantId, requireCountersignature }).onConflictDoUpdate({ target: quarantinePolicies.tenantId, set: { requireCountersignature } });
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: "quarantine.policy",
      target: `tenant:${ctx.tenantSlug}`,
      before: { requireCountersignature: before?.requireCountersignature ?? false },
      after: { requireCountersignature },
    });
  });
}

export async function getReviewPolicy(ctx: TenantContext) {
  const [p] = await withTenant(ctx, (tx) => tx.select().from(quarantinePolicies));
  return { requireCountersignature: p?.requireCountersignature ?? false };
}
