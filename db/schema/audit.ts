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
