import { sql } from "drizzle-orm";
import { bigint, bigserial, index, jsonb, pgPolicy, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { currentTenantId, isSystem } from "./rls";

/**
 * Append-only, hash-chained audit entries: one chain per tenant (`chain` = tenant id) and a global chain
 * (`chain` = 'global') for operator and sign-in events. UPDATE/DELETE/TRUNCATE are revoked from the
 * application role and refused by a trigger (see the custom migration). Encoding: docs/audit-format.md.
 */
export const auditEntries = pgTable(
  "audit_entries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    chain: text("chain").notNull(),
    tenantId: uuid("tenant_id"),
    seq: bigint("seq", { mode: "number" }).notNull(),
    at: timestamp("at", { withTimezone: true, precision: 6 }).notNull(),
    actor: jsonb("actor").notNull(),
    /** the actor's e-mail as a plain column: the actor filter's index must be usable under row-level security,
     * where only leakproof operators (text =, not jsonb ->>) become index conditions */
    actorEmail: text("actor_email").generatedAlwaysAs(sql`actor->>'email'`),
    /** the break-glass grant the actor acted under, if any (what a tenant sees was done under a grant) */
    grantId: text("grant_id").generatedAlwaysAs(sql`actor->>'grantId'`),
    action: text("action").notNull(),
    target: text("target").notNull(),
    reason: text("reason"),
    before: jsonb("before"),
    after: jsonb("after"),
    requestId: text("request_id"),
    source: text("source").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    unique("audit_entries_chain_seq").on(t.chain, t.seq),
    index("audit_entries_tenant_at").on(t.tenantId, t.at),
    // The audit screen's filters, each walking one chain in seq order (keyset pages stay fast at any depth).
    index("audit_entries_chain_at").on(t.chain, t.at),
    index("audit_entries_chain_action_seq").on(t.chain, t.action, t.seq),
    index("audit_entries_chain_actor_seq").on(t.chain, t.actorEmail, t.seq),
    index("audit_entries_chain_target_seq").on(t.chain, t.target, t.seq),
    index("audit_entries_chain_grant_seq").on(t.chain, t.grantId, t.seq),
    pgPolicy("audit_tenant_read", { for: "select", using: sql`${t.tenantId} = ${currentTenantId}` }),
    pgPolicy("audit_global_read", { for: "select", using: sql`${t.tenantId} is null and ${isSystem}` }),
    pgPolicy("audit_append", {
      for: "insert",
      withCheck: sql`${t.tenantId} = ${currentTenantId} or ${t.tenantId} is null`,
    }),
  ],
).enableRLS();

/** The last entry of each chain. Appending locks this row, so concurrent writers never fork a chain. */
export const auditChainHeads = pgTable(
  "audit_chain_heads",
  {
    chain: text("chain").primaryKey(),
    tenantId: uuid("tenant_id"),
    seq: bigint("seq", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    pgPolicy("audit_heads_own_chain", {
      for: "all",
      using: sql`${t.tenantId} = ${currentTenantId} or ${t.tenantId} is null`,
      withCheck: sql`${t.tenantId} = ${currentTenantId} or ${t.tenantId} is null`,
    }),
  ],
).enableRLS();

/**
 * Signed checkpoints: the service's Ed25519 signature over a chain head (chain, seq, hash, at), so a chain
 * rewritten and re-hashed after the fact no longer matches. Same visibility as the entries.
 */
export const auditCheckpoints = pgTable(
  "audit_checkpoints",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    chain: text("chain").notNull(),
    tenantId: uuid("tenant_id"),
    seq: bigint("seq", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
    /** signing time exactly as signed (UTC, microseconds) */
    at: text("at").notNull(),
    keyId: text("key_id").notNull(),
    signature: text("signature").notNull(),
  },
  (t) => [
    unique("audit_checkpoints_chain_seq").on(t.chain, t.seq),
    pgPolicy("audit_checkpoints_tenant_read", { for: "select", using: sql`${t.tenantId} = ${currentTenantId}` }),
    pgPolicy("audit_checkpoints_global_read", { for: "select", using: sql`${t.tenantId} is null and ${isSystem}` }),
    pgPolicy("audit_checkpoints_append", {
      for: "insert",
      withCheck: sql`${t.tenantId} = ${currentTenantId} or (${t.tenantId} is null and ${isSystem})`,
    }),
  ],
).enableRLS();

/** How far the worker has ingested the engine's event feed: moved in the transaction that appends the events. */
export const engineEventCursor = pgTable(
  "engine_event_cursor",
  {
    id: text("id").primaryKey(),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
  },
  () => [pgPolicy("engine_event_cursor_system", { for: "all", using: isSystem, withCheck: isSystem })],
).enableRLS();
