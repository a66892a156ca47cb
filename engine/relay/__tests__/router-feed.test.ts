// A connection's feed against a real PostgreSQL, with a router that acks what it is offered after a random delay
// while new results keep arriving (some during a page's query): every result is offered exactly once, no frame
// carries more than a page, and no more than the window is ever outstanding.
import { randomUUID } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { until } from "../../../test/until";
import type { ServerMessage } from "../../router-agent/protocol";
import { connectEngineDb, migrateEngineDatabase, type EngineDb } from "../../store/db";
import { results } from "../../store/schema";
import type { Result } from "../hold-queue";
import { createRouterFeed } from "../router-feed";

const PAGE = 25;
const WINDOW = 60;

describe("router feed", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let conn: ReturnType<typeof connectEngineDb>;
  let db: EngineDb;
  let n = 0;
  const row = (tenantSlug: string, receivedAt: Date): Result => {
    const id = randomUUID();
    return {
      id,
      tenantSlug,
      callingAe: "VENDOR",
      calledAe: "SITE",
      peerAddress: "127.0.0.1:1",
      sopClassUid: "1.2.840.10008.5.1.4.1.1.2",
      sopInstanceUid: `1.2.826.0.1.3680043.8.498.${++n}`,
      studyInstanceUid: null,
      seriesInstanceUid: null,
      modality: "CT",
      transferSyntaxUid: "1.2.840.10008.1.2.1",
      sizeBytes: 100,
      sha256: "ab".repeat(32),
      blobId: id,
      status: "held",
      receivedAt,
      expiresAt: new Date(receivedAt.getTime() + 86_400_000),
      statusChangedAt: receivedAt,
      deliveryAttempts: 0,
      nextAttemptAt: null,
      lastFailureReason: null,
      deliveryFailingSince: null,
      pulledBy: null,
    };
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    await migrateEngineDatabase(dbs.engineUrl);
    conn = connectEngineDb(dbs.engineUrl);
    db = conn.db;
  });
  afterAll(async () => {
    await conn?.close();
    await dbs?.drop();
  });

  it("offers a backlog and the results arriving meanwhile exactly once, in bounded pages and window", async () => {
    const base = Date.now() - 3_600_000;
    const backlog = Array.from({ length: 500 }, (_, i) => row("site", new Date(base + i)));
    await db.insert(results).values(backlog);
    const offered = new Map<string, number>();
    const frames: number[] = [];
    let maxOutstanding = 0;
    const feed = createRouterFeed({
      db,
      tenant: "site",
      calledAeTitles: [],
      page: PAGE,
      window: WINDOW,
      now: () => new Date(),
      log: (m) => console.log(m),
      markNotified: () => {},
      send: async (m: ServerMessage) => {
        if (m.type !== "notify") return;
        frames.push(m.results.length);
        for (const r of m.results) offered.set(r.id, (offered.get(r.id) ?? 0) + 1);
        maxOutstanding = Math.max(maxOutstanding, feed.outstanding());
        // The router works through them in its own time: acked, then its place goes to the next page.
        for (const r of m.results)
          setTimeout(() => void db.update(results).set({ status: "acked" }).where(eq(results.id, r.id)).then(() => feed.release(r.id)), Math.random() * 40);
      },
    });
    void feed.start();
    const arriving: Result[] = [];
    for (let i = 0; i < 150; i++) {
      await new Promise((r) => setTimeout(r, Math.random() * 6));
      const r = row("site", new Date());
      await db.insert(results).values(r);
      arriving.push(r);
      void feed.push(r);
    }
    const all = [...backlog, ...arriving].map((r) => r.id);
    await until(() => offered.size, (size) => size === all.length, 30_000, 50);
    await until(() => db.select({ id: results.id }).from(results).where(and(inArray(results.id, all), eq(results.status, "acked"))), (r) => r.length === all.length, 30_000, 50);
    await new Promise((r) => setTimeout(r, 300)); // nothing offered late or twice
    expect(offered.size).toBe(all.length);
    expect([...offered.values()].every((c) => c === 1)).toBe(true);
    expect(Math.max(...frames)).toBeLessThanOrEqual(PAGE);
    // Results left to the scan never exceed the window; one that sorts before the scan's position (none here)
    // would be pushed at once.
    expect(maxOutstanding).toBeLessThanOrEqual(WINDOW);
    feed.close();
  });
});
