import "server-only";
import { and, asc, desc, eq, gte, lt, lte, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { auditEntries } from "@/db/schema";
import { systemContext, type Actor, type TenantContext } from "../context";
import { withSystem, withTenant, type Tx } from "../db";
import type { EntryFields } from "./verifier";

/** Which chain: a tenant's (read in that tenant's RLS scope) or the global one (engineers and system only). */
export type ChainScope = { chain: string; tenantId: string; tenantSlug: string; ctx: Pick<TenantContext, "tenantId" | "actor"> } | { chain: "global"; tenantId: null; tenantSlug: null };

export const tenantChain = (ctx: Pick<TenantContext, "tenantId" | "tenantSlug" | "actor">): ChainScope => ({ chain: ctx.tenantId, tenantId: ctx.tenantId, tenantSlug: ctx.tenantSlug, ctx });
export const globalChain: ChainScope = { chain: "global", tenantId: null, tenantSlug: null };
/** A tenant's chain read by a system task (the CLI verifier, the worker). */
export const systemTenantChain = (t: { id: string; slug: string }) => tenantChain({ tenantId: t.id, tenantSlug: t.slug, actor: systemContext(t.id).actor });

export function readChain<T>(scope: ChainScope, fn: (tx: Tx) => Promise<T>) {
  return scope.tenantId === null ? withSystem(fn) : withTenant(scope.ctx, fn);
}

const dateTime = (name: string) =>
  z
    .string()
    .trim()
    .transform((s, c) => {
      if (!s) return undefined;
      const d = new Date(s);
      if (Number.isNaN(d.getTime())) {
        c.addIssue({ code: "custom", message: `${name} is not a date and time (e.g. 2026-11-22T14:30)` });
        return z.NEVER;
      }
      return d;
    })
    .optional();
const text = (max: number, normalize = (s: string) => s) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((s) => normalize(s) || undefined)
    .optional();

/** The audit screen's and the export's filters, from URL search params. */
export const AuditFilter = z.object({
  from: dateTime("From"),
  to: dateTime("To"),
  actor: text(320, (s) => s.toLowerCase()),
  action: text(100),
  target: text(300),
});
export type AuditFilter = z.infer<typeof AuditFilter>;
export const isUnfiltered = (f: AuditFilter) => !f.from && !f.to && !f.actor && !f.action && !f.target;

/** The stored time as hashed: UTC with microseconds. */
export const atText = sql<string>`to_char(${auditEntries.at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A time range as the seq range it covers (null: nothing in range). */
export type SeqRange = { fromSeq?: number; toSeq?: number } | null;

/**
 * Turns the filter's time range into a seq range (seq and time grow together within a chain: appends are
 * serialized on the chain's head), with one indexed lookup per bound, so every query walks the (chain, seq)
 * order with plain values. (Bounds given as subqueries would not become index conditions under row-level
 * security, which only lets leakproof, subquery-free conditions into an index scan.)
 */
export async function seqRangeOf(tx: Tx, chain: string, f: AuditFilter): Promise<SeqRange> {
  const range: { fromSeq?: number; toSeq?: number } = {};
  if (f.from) {
    const [r] = await tx.select({ seq: auditEntries.seq }).from(auditEntries).where(and(eq(auditEntries.chain, chain), gte(auditEntries.at, f.from))).orderBy(asc(auditEntries.at)).limit(1);
    if (!r) return null;
    range.fromSeq = r.seq;
  }
  if (f.to) {
    const [r] = await tx.select({ seq: auditEntries.seq }).from(auditEntries).where(and(eq(auditEntries.chain, chain), lte(auditEntries.at, f.to))).orderBy(desc(auditEntries.at)).limit(1);
    if (!r) return null;
    range.toSeq = r.seq;
  }
  return range;
}

/** The filter as conditions on one chain, its time range already resolved to `range`. */
export function filterConditions(chain: string, f: AuditFilter, range: NonNullable<SeqRange>): SQL | undefined {
  return and(
    eq(auditEntries.chain, chain),
    range.fromSeq !== undefined ? gte(auditEntries.seq, range.fromSeq) : undefined,
    range.toSeq !== undefined ? lte(auditEntries.seq, range.toSeq) : undefined,
    f.actor ? eq(auditEntries.actorEmail, f.actor) : undefined,
    f.action ? eq(auditEntries.action, f.action) : undefined,
    f.target ? eq(auditEntries.target, f.target) : undefined,
  );
}

/** An entry as read back: the hashed fields (its chain is the scope's) and its hash. */
export type AuditRow = Omit<EntryFields, "chain" | "actor"> & { actor: Actor | { system: string }; hash: string };

export const entryColumns = {
  seq: auditEntries.seq,
  at: atText,
  actor: auditEntries.actor,
  action: auditEntries.action,
  target: auditEntries.target,
  reason: auditEntries.reason,
  before: auditEntries.before,
  after: auditEntries.after,
  requestId: auditEntries.requestId,
  source: auditEntries.source,
  prevHash: auditEntries.prevHash,
  hash: auditEntries.hash,
};

export const PAGE_SIZE = 50;

/** One page, newest first; `before` is the keyset cursor (the last seq of the previous page). */
export async function listAuditEntries(scope: ChainScope, filter: AuditFilter, before?: number) {
  const rows = (await readChain(scope, async (tx) => {
    const range = await seqRangeOf(tx, scope.chain, filter);
    if (!range) return [];
    return tx
      .select(entryColumns)
      .from(auditEntries)
      .where(and(filterConditions(scope.chain, filter, range), before ? lt(auditEntries.seq, before) : undefined))
      .orderBy(desc(auditEntries.seq))
      .limit(PAGE_SIZE + 1);
  })) as AuditRow[];
  const more = rows.length > PAGE_SIZE;
  const page = more ? rows.slice(0, PAGE_SIZE) : rows;
  return { entries: page, nextBefore: more ? page[page.length - 1]!.seq : null };
}

export async function getAuditEntry(scope: ChainScope, seq: number) {
  const [row] = await readChain(scope, (tx) =>
    tx
      .select(entryColumns)
      .from(auditEntries)
      .where(and(eq(auditEntries.chain, scope.chain), eq(auditEntries.seq, seq))),
  );
  return (row as AuditRow | undefined) ?? null;
}

const Before = z.coerce.number().int().positive().optional();

/**
 * The audit screen's URL: the filter (invalid fields are reported and left out, so the page still renders), the
 * raw values to put back in the form, and the page cursor.
 */
export function parseAuditSearch(params: Record<string, string | string[] | undefined>) {
  const raw: Record<string, string> = {};
  for (const k of ["from", "to", "actor", "action", "target"] as const) {
    const v = params[k];
    if (typeof v === "string" && v.trim()) raw[k] = v;
  }
  const errors: string[] = [];
  const filter: AuditFilter = {};
  for (const [k, v] of Object.entries(raw)) {
    const one = AuditFilter.shape[k as keyof AuditFilter].safeParse(v);
    if (one.success) Object.assign(filter, { [k]: one.data });
    else errors.push(...one.error.issues.map((i) => i.message));
  }
  const before = Before.safeParse(typeof params.before === "string" ? params.before : undefined);
  if (!before.success) errors.push("The page cursor is not valid; showing the newest entries.");
  return { filter, raw, errors, before: before.success ? before.data : undefined };
}
