import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asc, eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { auditEntries } from "@/db/schema";
import { useConsoleDatabase } from "../../../test/console-db";
import { dbError } from "../../../test/errors";
import { systemContext } from "../../context";
import { closeDb, db, withSystem, withTenant } from "../../db";
import { createTenant } from "../../tenancy/service";
import { appendAudit } from "../append";
import { entryHash, GENESIS_HASH } from "../verifier";

describe("audit chain", () => {
  let dbs: Awaited<ReturnType<typeof useConsoleDatabase>>;
  let tenantId: string;
  beforeAll(async () => {
    dbs = await useConsoleDatabase();
    tenantId = (await createTenant({ slug: "chain", name: "Chain" })).id;
  });
  afterAll(async () => {
    await closeDb();
    await dbs?.drop();
  });

  it("concurrent writers never fork or gap the chain, and every hash recomputes", async () => {
    const ctx = systemContext(tenantId, "tester");
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        withTenant(ctx, (tx) => appendAudit(tx, { tenantId, actor: ctx.actor }, { action: "test.write", target: `n:${i}`, after: { i } })),
      ),
    );
    const rows = await withTenant(ctx, (tx) =>
      tx
        .select({ e: auditEntries, at: sql<string>`to_char(${auditEntries.at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` })
        .from(auditEntries)
        .where(eq(auditEntries.chain, tenantId))
        .orderBy(asc(auditEntries.seq)),
    );
    expect(rows.map((r) => r.e.seq)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1)); // + tenant.create
    let prev = GENESIS_HASH;
    for (const { e, at } of rows) {
      expect(e.prevHash).toBe(prev);
      const { id, tenantId: _t, hash, ...fields } = e;
      expect(entryHash({ ...fields, at })).toBe(hash);
      prev = hash;
    }
  });

  it("8 concurrent writers appending 1,000 entries each leave one linear chain of 8,000", async () => {
    const other = await createTenant({ slug: "busy", name: "Busy" });
    const ctx = systemContext(other.id, "tester");
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = 0; i < 1000; i++) {
          await withTenant(ctx, (tx) => appendAudit(tx, { tenantId: other.id, actor: ctx.actor }, { action: "test.write", target: `w${w}:${i}` }));
        }
      }),
    );
    const rows = await withTenant(ctx, (tx) =>
      tx.select({ seq: auditEntries.seq, prevHash: auditEntries.prevHash, hash: auditEntries.hash, target: auditEntries.target }).from(auditEntries).where(eq(auditEntries.chain, other.id)).orderBy(asc(auditEntries.seq)),
    );
    expect(rows.length).toBe(8001); // + tenant.create
    expect(new Set(rows.map((r) => r.target)).size).toBe(8001); // none lost, none twice
    rows.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      expect(r.prevHash).toBe(i === 0 ? GENESIS_HASH : rows[i - 1]!.hash);
    });
  }, 120_000);

  it("another tenant cannot read this tenant's chain", async () => {
    const other = await createTenant({ slug: "other", name: "Other" });
    const seen = await withTenant(systemContext(other.id), (tx) => tx.select().from(auditEntries).where(eq(auditEntries.chain, tenantId)));
    expect(seen).toEqual([]);
  });

  it("the application role cannot update, delete or truncate audit entries", async () => {
    expect(await dbError(withTenant(systemContext(tenantId), (tx) => tx.update(auditEntries).set({ action: "forged" })))).toMatch(
      /permission denied/,
    );
    expect(await dbError(withTenant(systemContext(tenantId), (tx) => tx.delete(auditEntries)))).toMatch(/permission denied/);
    expect(await dbError(db().execute(sql`truncate audit_entries`))).toMatch(/permission denied/);
  });

  it("the owner and even a superuser are stopped by the append-only trigger", async () => {
    for (const url of [dbs.consoleOwnerUrl, dbs.adminUrl.replace(/\/[^/]*$/, "/" + new URL(dbs.consoleOwnerUrl).pathname.slice(1))]) {
      const sqlc = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await expect(sqlc`truncate audit_entries`).rejects.toThrow(/append-only/);
      } finally {
        await sqlc.end();
      }
    }
    const su = postgres(dbs.adminUrl.replace(/\/[^/]*$/, "/" + new URL(dbs.consoleOwnerUrl).pathname.slice(1)), { max: 1, onnotice: () => {} });
    try {
      await expect(su`update audit_entries set action = 'forged'`).rejects.toThrow(/append-only/);
      await expect(su`delete from audit_entries`).rejects.toThrow(/append-only/);
    } finally {
      await su.end();
    }
  });

  it("global chain entries are readable only by system tasks", async () => {
    await db().transaction((tx) =>
      appendAudit(tx, { tenantId: null, actor: { userId: "u", name: "n", email: "e", roles: [] } }, { action: "auth.sign_in", target: "user:u" }),
    );
    expect(await db().select().from(auditEntries)).toEqual([]);
    const global = await withSystem((tx) => tx.select().from(auditEntries).where(eq(auditEntries.chain, "global")));
    expect(global.map((g) => g.action)).toEqual(["auth.sign_in"]);
  });
});
