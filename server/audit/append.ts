import "server-only";
import { sql } from "drizzle-orm";
import { auditChainHeads } from "@/db/schema";
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

type Head = { seq: number; hash: string; now: string };

/** Locks the chain's head row for the rest of the transaction and reads it, with the time (UTC, µs) to stamp. */
async function lockHead(tx: Tx, chain: string, tenantId: string | null): Promise<Head> {
  const read = () =>
    tx.execute<{ seq: string | number; hash: string; now: string }>(sql`
      select seq, hash, to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now
      from audit_chain_heads where chain = ${chain} for update`);
  let [row] = await read();
  if (!row) {
    // A chain's first entry: create its head (a concurrent first writer may win; either way it exists now).
    await tx.insert(auditChainHeads).values({ chain, tenantId, seq: 0, hash: GENESIS_HASH }).onConflictDoNothing();
    [row] = await read();
  }
  if (!row) throw new Error(`audit chain ${chain} is not visible in this transaction`);
  return { seq: Number(row.seq), hash: row.hash, now: row.now };
}

/**
 * Appends one entry to a chain inside the caller's transaction, so the entry commits with the change it
 * records or not at all. Locking the chain's head row serializes writers per chain: no forks, no gaps. Two round
 * trips while the lock is held: read the head, then insert the entry and move the head in one statement.
 */
export async function appendAudit(tx: Tx, scope: AuditScope, event: AuditEvent) {
  const chain = scope.tenantId ?? "global";
  const head = await lockHead(tx, chain, scope.tenantId);
  const fields = {
    chain,
    seq: head.seq + 1,
    at: head.now,
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
  const json = (v: unknown) => (v === null ? null : JSON.stringify(v));
  // No RETURNING: a writer may append to a chain it cannot read (the global one), and RLS would refuse it.
  await tx.execute(sql`
    with entry as (
      insert into audit_entries (chain, tenant_id, seq, at, actor, action, target, reason, before, after, request_id, source, prev_hash, hash)
      values (${chain}, ${scope.tenantId}, ${fields.seq}, ${head.now}::timestamptz, ${json(fields.actor)}::jsonb, ${fields.action}, ${fields.target},
        ${fields.reason}, ${json(fields.before)}::jsonb, ${json(fields.after)}::jsonb, ${fields.requestId}, ${fields.source}, ${fields.prevHash}, ${hash})
    )
    update audit_chain_heads set seq = ${fields.seq}, hash = ${hash} where chain = ${chain}`);
  return { seq: fields.seq, hash };
}
