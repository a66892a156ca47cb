// The hold queue's group commit against a real PostgreSQL: many instances in one statement, a bad one failing
// alone, replacements within a batch, notified marks gathered into statements of their own (never a received
// batch's), and the same events as one-at-a-time writes.
import { randomUUID } from "node:crypto";
import { asc, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { connectEngineDb, migrateEngineDatabase, type EngineDb } from "../../store/db";
import { engineEvents, results } from "../../store/schema";
import type { Received } from "../hold-queue";
import { createHoldQueueWriter } from "../hold-queue-writer";
import { applyTenantConfig } from "../tenant-config";

describe("hold queue group commit", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let conn: ReturnType<typeof connectEngineDb>;
  let db: EngineDb;
  const received = (tenantSlug: string, sopInstanceUid: string): Received => {
    const id = randomUUID();
    return {
      id,
      tenantSlug,
      callingAe: "VENDOR",
      calledAe: "ALPHA",
      peerAddress: "127.0.0.1:1",
      sopClassUid: "1.2.840.10008.5.1.4.1.1.2",
      sopInstanceUid,
      studyInstanceUid: "1.2.3",
      seriesInstanceUid: "1.2.3.4",
      modality: "CT",
      transferSyntaxUid: "1.2.840.10008.1.2.1",
      sizeBytes: 100,
      sha256: "ab".repeat(32),
      blobId: id,
      receivedAt: new Date("2026-01-01T00:00:00Z"),
    };
  };
  const timeline = async (resultId: string) =>
    (await db.select().from(engineEvents).orderBy(asc(engineEvents.id))).filter((e) => (e.payload as { resultId?: string }).resultId === resultId).map((e) => e.type);

  beforeAll(async () => {
    dbs = await createTestDatabases();
    await migrateEngineDatabase(dbs.engineUrl);
    conn = connectEngineDb(dbs.engineUrl);
    db = conn.db;
    await applyTenantConfig(db, "alpha", { ttlDays: 3, calledAeTitles: ["ALPHA"], allowedCallingAeTitles: [], version: 1 });
  });
  afterAll(async () => {
    await conn?.close();
    await dbs?.drop();
  });

  it("records instances that arrive together in one batch; a bad one fails alone", async () => {
    const writer = createHoldQueueWriter(db);
    const items = Array.from({ length: 20 }, (_, i) => received("alpha", `1.9.${i}`));
    const settled = await Promise.allSettled([...items.map((r) => writer.record(r)), writer.record(received("no-such-tenant", "1.9.99"))]);
    expect(settled.slice(0, 20).every((s) => s.status === "fulfilled")).toBe(true);
    expect(settled[20]).toMatchObject({ status: "rejected", reason: { message: expect.stringContaining("no applied configuration") } });
    const first = (settled[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof writer.record>>>).value;
    expect(first.result).toMatchObject({ id: items[0]!.id, status: "held", expiresAt: new Date("2026-01-04T00:00:00Z") });
    expect(first.replacedBlobId).toBeNull();
    const rows = await db.select().from(results).where(eq(results.tenantSlug, "alpha"));
    expect(rows).toHaveLength(20);
    expect(await timeline(items[3]!.id)).toEqual(["result.received"]);
    await writer.close();
  });

  it("a second instance of the same SOP instance replaces the first, also within one batch", async () => {
    const writer = createHoldQueueWriter(db);
    const [a, b] = [received("alpha", "1.8.1"), received("alpha", "1.8.1")];
    const [ra, rb] = await Promise.all([writer.record(a), writer.record(b)]);
    expect(ra.replacedBlobId).toBeNull();
    expect(rb).toMatchObject({ result: { id: a.id }, replacedBlobId: a.blobId });
    const [row] = await db.select().from(results).where(eq(results.sopInstanceUid, "1.8.1"));
    expect(row).toMatchObject({ id: a.id, blobId: b.blobId, status: "held" });
    expect(await timeline(a.id)).toEqual(["result.received", "result.replaced"]);
    await writer.close();
  });

  it("moves notified results held → notified once, with the router in the event; settle() waits for both lanes", async () => {
    const writer = createHoldQueueWriter(db);
    const { result } = await writer.record(received("alpha", "1.7.1"));
    // The mark waits a moment for others to join it; settle() writes it at once and returns once both committed.
    const marked = writer.markNotified([result, result], "router-1", new Date("2026-01-01T00:00:05Z"));
    const next = received("alpha", "1.7.3");
    const recorded = writer.record(next);
    await writer.settle();
    const committed = await db.select({ id: results.id, status: results.status }).from(results).where(inArray(results.id, [result.id, next.id]));
    expect(Object.fromEntries(committed.map((r) => [r.id, r.status]))).toEqual({ [result.id]: "notified", [next.id]: "held" });
    await Promise.all([marked, recorded]);
    const [row] = await db.select().from(results).where(eq(results.id, result.id));
    expect(row).toMatchObject({ status: "notified", statusChangedAt: new Date("2026-01-01T00:00:05Z") });
    // A second push of the same (stale, still "held" in memory) result changes nothing in the database.
    const again = writer.markNotified([{ ...result }], "router-2", new Date());
    await writer.settle();
    await again;
    expect(await timeline(result.id)).toEqual(["result.received", "result.notified"]);
    const [ev] = (await db.select().from(engineEvents).where(eq(engineEvents.type, "result.notified"))).filter((e) => (e.payload as { resultId: string }).resultId === result.id);
    expect(ev!.payload).toEqual({ resultId: result.id, from: "held", routerId: "router-1" });
    await writer.close();
    await expect(writer.record(received("alpha", "1.7.2"))).rejects.toThrow(/closed/);
  });

  it("writes marks in statements of their own, those made within a moment together, never in a received batch", async () => {
    // The statements the writer sends, read off its calls (the database underneath is the real one).
    const statements: { received: number; marks: number }[] = [];
    const unsafe = db.$client.unsafe.bind(db.$client);
    const client = Object.assign(Object.create(db.$client), {
      unsafe: (query: string, params: string[], options: object) => {
        statements.push({ received: JSON.parse(params[0]!).length, marks: JSON.parse(params[1]!).length });
        return unsafe(query, params, options);
      },
    });
    const writer = createHoldQueueWriter(Object.assign(Object.create(db), { $client: client }) as EngineDb);
    const { result: first } = await writer.record(received("alpha", "1.10.1"));
    const toldAt = new Date("2026-01-01T00:00:07Z");
    const marked = writer.markNotified([first], "router-1", toldAt);
    // An instance recorded meanwhile does not carry the mark (notify latency waits for its commit).
    const { result: second } = await writer.record(received("alpha", "1.10.2"));
    const { result: third } = await writer.record(received("alpha", "1.10.3"));
    await marked;
    expect(statements.filter((x) => x.received)).toEqual([1, 2, 3].map(() => ({ received: 1, marks: 0 })));
    expect(statements.filter((x) => x.marks)).toEqual([{ received: 0, marks: 1 }]);
    // The event is dated when the router was told, not when it was written.
    const [ev] = (await db.select().from(engineEvents).where(eq(engineEvents.type, "result.notified"))).filter((e) => (e.payload as { resultId: string }).resultId === first.id);
    expect(ev!.createdAt).toEqual(toldAt);
    // Two marks made within the moment go in one statement (without settle()).
    await Promise.all([writer.markNotified([second], "router-1", new Date()), writer.markNotified([third], "router-1", new Date())]);
    expect(statements.at(-1)).toEqual({ received: 0, marks: 2 });
    const rows = await db.select().from(results).where(inArray(results.id, [second.id, third.id]));
    expect(rows.map((r) => r.status)).toEqual(["notified", "notified"]);
    expect(await timeline(second.id)).toEqual(["result.received", "result.notified"]);
    expect(await timeline(third.id)).toEqual(["result.received", "result.notified"]);
    await writer.close();
  });
});
