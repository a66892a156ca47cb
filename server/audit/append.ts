import "server-only";
import { eq, sql } from "drizzle-orm";
import { auditChainHeads, auditEntries } from "@/db/schema";
import type { Actor } from "../context";
import type { Tx } from "../db";
import { entryHash, GENESIS_HASH } from "./verifier";

export type AuditEvent = {
  /** `feature.verb`, e.g. `retention.update` */
  action: string;
  target: string;
  reason?: string | null;
  before?: unknown;
  after?: unknown;
};

export type AuditScope = {
  /** the tenant's chain, or null for the global (operator) chain */
  tenantId: string | null;
  actor: Actor | { system: string };
  requestId?: string | null;
  source?: "console" | "engine";
};

/**
 * Appends one entry to a chain inside the caller's transaction, so the entry commits with the change it
 * records or not at all. Locking the chain's head row serializes writers per chain: no forks, no gaps.
 */
export async function appendAudit(tx: Tx, scope: AuditScope, event: AuditEvent) {
  const chain = scope.tenantId ?? "global";
  await tx
    .insert(auditChainHeads)
    .values({ chain, tenantId: scope.tenantId, seq: 0, hash: GENESIS_HASH })
    .onConflictDoNothing();
  const [head] = await tx.select().from(auditChainHeads).where(eq(auditChainHeads.chain, chain)).for("update");
  if (!head) throw new Error(`audit chain ${chain} is not visible in this transaction`);
  // Microsecond UTC text: hashed as is and stored losslessly in timestamptz(6).
  const [clock] = await tx.execute<{ now: string }>(
    sql`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`,
  );
  const now = clock!.now;
  const fields = {
    chain,
    seq: head.seq + 1,
    at: now,
    actor: scope.actor,
    action: event.action,
    target: event.target,
    reason: event.reason ?? null,
    before: event.before ?? null,
    after: event.after ?? null,
    requestId: scope.requestId ?? null,
    source: scope.source ?? "console",
    prevHash: head.hash,
  };
  const hash = entryHash(fields);
  await tx.insert(auditEntries).values({ ...fields, tenantId: scope.tenantId, at: sql`${now}::timestamptz`, hash });
  await tx.update(auditChainHeads).set({ seq: fields.seq, hash }).where(eq(auditChainHeads.chain, chain));
  return { seq: fields.seq, hash };
}
