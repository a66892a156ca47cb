// Checkpoints and rollback, against two real Orthanc archives: a pause records a checkpoint; rolling back to it
// puts exactly the studies completed after it back to pending (their earlier records kept and named in the event
// feed), and a resume redoes them, so the target still holds each study once with verified hashes. Hourly and
// window-close checkpoints come from the runners' poll (the hour by the engine's test clock); a study quarantined
// and skipped after a checkpoint is put back too. A backup carries both new tables.
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawPublic, readBackup, signBackup } from "../../../scripts/lib/migration-backup-format";
import { takeBackup } from "../../../scripts/migration-backup";
import { restoreBackup } from "../../../scripts/migration-restore";
import { connectEngineDb, migrateEngineDatabase } from "../../store/db";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine, TestClock } from "../../../test/engine";
import { approveVersion } from "../../../test/migrations";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";

const TOKEN = "migration-checkpoints-token-".padEnd(48, "k");
const STUDIES = 6;
const ALICE = { userId: "u-alice", name: "Alice Engineer" };

type Checkpoint = { id: string; seq: number; reason: string; takenAt: string; highWater: number; counts: Record<string, number> };

describe("migration checkpoints and rollback", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let source: Awaited<ReturnType<typeof startOrthanc>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  let sql: postgres.Sql;
  const clock = new TestClock();
  // Holds every study before it is sent while set: keeps a migration running (and in flight) for as long as a test needs.
  let gate: Promise<void> | null = null;
  // Fails the next study as it is sent (it is quarantined): a completion that is not a migration.
  let failNext = false;
  let firstCheckpoint: Checkpoint;
  let firstId: string;

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const post = (p: string, body: unknown = {}) => api(p, { method: "POST", body: JSON.stringify(body) });
  const base = (id: string) => `/v1/tenants/north/migrations/${id}`;
  const checkpoints = async (id: string) => (await api(`${base(id)}/checkpoints`)).body.checkpoints as Checkpoint[];
  const today = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date().getUTCDay()]!;
  const closedNow = { timeZone: "UTC", intervals: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].filter((d) => d !== today), start: "00:00", end: "23:59" }] };

  const create = async (name: string, extra: Record<string, unknown> = {}) => {
    const created = await post("/v1/tenants/north/migrations", {
      name,
      sources: [{ kind: "dicom", id: "legacy", aeTitle: source.aeTitle, host: "127.0.0.1", port: source.port }],
      target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
      filters: { studyDateFrom: "2020-01-01", studyDateTo: "2025-12-31" },
      concurrency: 1,
      ...extra,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await post(`${base(id)}/discover`);
    await until(() => api(base(id)), (r) => r.body.status === "ready", 60_000);
    return id;
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, clock, hooks: {
        migration: {
          beforeSend: async () => {
            await gate;
            if (failNext) {
              failNext = false;
              throw new Error("injected: the target refused the association");
            }
          },
        },
      },
    });
    sql = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" })]);
    for (const s of makeStudies(STUDIES, ["2022-06-01", "2023-03-03", "2024-01-02"], ["CT", "MR"])) await source.upload(s.file);
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await source?.stop();
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("rolls back to a pause checkpoint: exactly the studies completed after it are redone, both histories kept", async () => {
    const id = await create("Checkpoints", { bandwidth: { overallBytesPerSecond: 20_000 } });
    firstId = id;
    expect((await post(`${base(id)}/start`)).status).toBe(202);
    await until(() => api(base(id)), (r) => r.body.counts.migrated >= 2, 60_000, 100);

    // Pause: a checkpoint of where it stood; the study in flight finishes after it.
    expect((await post(`${base(id)}/pause`)).status).toBe(200);
    await until(() => api(base(id)), (r) => r.body.counts.inFlight === 0, 30_000, 100);
    const [pause] = await checkpoints(id);
    expect(pause).toMatchObject({ seq: 1, reason: "pause" });
    expect(pause!.counts.migrated).toBeGreaterThanOrEqual(2);
    const { migrated, pending, quarantined, skipped } = pause!.counts as Record<"migrated" | "pending" | "quarantined" | "skipped", number>;
    expect(migrated + pending + quarantined + skipped).toBe(STUDIES);
    firstCheckpoint = pause!;

    // Rollback needs it stopped: while running it is refused with a reason.
    expect((await post(`${base(id)}/resume`)).status).toBe(200);
    const running = await post(`${base(id)}/rollback`, { checkpointId: pause!.id, reason: "bad batch", requestedBy: ALICE });
    expect(running.status).toBe(409);
    expect(running.body.message).toContain("paused or completed");
    await api(`${base(id)}/settings`, { method: "PATCH", body: JSON.stringify({ bandwidth: { overallBytesPerSecond: null } }) });
    await until(() => api(base(id)), (r) => r.body.status === "completed", 120_000, 200);

    // Independently of the completion numbers: the event feed is in commit order (migration 0005), so the studies
    // completed after the checkpoint are those whose study_migrated event comes after its migration.checkpoint event.
    const [cpEvent] = await sql`select id from engine_events where type = 'migration.checkpoint' and payload->>'checkpointId' = ${pause!.id}`;
    const migratedEvents = await sql`select id, payload->>'studyInstanceUid' as uid, payload->>'recordHash' as hash from engine_events
      where type = 'migration.study_migrated' and payload->>'migrationId' = ${id} order by id`;
    expect(migratedEvents.length).toBe(STUDIES);
    const after = new Set(migratedEvents.filter((e) => Number(e.id) > Number(cpEvent!.id)).map((e) => e.uid as string));
    const before = new Set(migratedEvents.filter((e) => Number(e.id) < Number(cpEvent!.id)).map((e) => e.uid as string));
    expect(before.size).toBe(pause!.counts.migrated);
    expect(after.size).toBeGreaterThan(0);
    expect(after.size).toBe(STUDIES - before.size);
    const hashOf = new Map(migratedEvents.map((e) => [e.uid as string, e.hash as string]));
    const earlierRows = await sql`select study_instance_uid, finished_at, completion_seq from migration_studies where migration_id = ${id} and study_instance_uid in ${sql([...before])} order by 1`;
    const earlierInstances = await sql`select * from migration_instances where migration_id = ${id} and study_instance_uid in ${sql([...before])} order by sop_instance_uid`;

    // Both routes are in the published contract.
    const doc = await (await fetch(`${engine.url}/openapi.json`)).json();
    expect(doc.paths["/v1/tenants/{slug}/migrations/{id}/checkpoints"].get).toBeDefined();
    expect(doc.paths["/v1/tenants/{slug}/migrations/{id}/rollback"].post.requestBody.content["application/json"].schema).toBeDefined();

    // Refusals: a short reason, another tenant's path, a checkpoint id that is nobody's.
    expect((await post(`${base(id)}/rollback`, { checkpointId: pause!.id, reason: "no", requestedBy: ALICE })).status).toBe(400);
    expect((await post(`/v1/tenants/south/migrations/${id}/rollback`, { checkpointId: pause!.id, reason: "bad batch", requestedBy: ALICE })).status).toBe(404);
    expect((await post(`${base(id)}/rollback`, { checkpointId: "00000000-0000-4000-8000-000000000000", reason: "bad batch", requestedBy: ALICE })).status).toBe(404);
    expect((await api(`/v1/tenants/south/migrations/${id}/checkpoints`)).status).toBe(404);

    const reason = "target storage batch 7 was on a faulty volume";
    const rolled = await post(`${base(id)}/rollback`, { checkpointId: pause!.id, reason, requestedBy: ALICE });
    expect(rolled.status, JSON.stringify(rolled.body)).toBe(200);
    expect(rolled.body.migration.status).toBe("paused");
    expect(new Set(rolled.body.studies.map((s: { studyInstanceUid: string }) => s.studyInstanceUid))).toEqual(after);
    for (const s of rolled.body.studies) expect(s).toMatchObject({ previousStatus: "migrated", previousRecordHash: hashOf.get(s.studyInstanceUid) });

    // The rows: exactly those pending again, without verified instances; the earlier ones untouched.
    const rows = await sql`select study_instance_uid, status, completion_seq from migration_studies where migration_id = ${id}`;
    expect(new Set(rows.filter((r) => r.status === "pending").map((r) => r.study_instance_uid))).toEqual(after);
    expect(new Set(rows.filter((r) => r.status === "migrated").map((r) => r.study_instance_uid))).toEqual(before);
    expect(await sql`select study_instance_uid, finished_at, completion_seq from migration_studies where migration_id = ${id} and study_instance_uid in ${sql([...before])} order by 1`).toEqual(earlierRows);
    expect(await sql`select * from migration_instances where migration_id = ${id} order by sop_instance_uid`).toEqual(earlierInstances);
    expect((await api(base(id))).body.counts).toMatchObject({ migrated: before.size, pending: after.size });

    // Both histories: the earlier outcome kept per study, and the event naming each with its record hash, the reason and who.
    const history = await sql`select study_instance_uid, reason, requested_by, previous from migration_study_history where migration_id = ${id}`;
    expect(new Set(history.map((h) => h.study_instance_uid))).toEqual(after);
    for (const h of history) {
      expect(h).toMatchObject({ reason, requested_by: ALICE, previous: { status: "migrated", recordHash: hashOf.get(h.study_instance_uid) } });
      expect(h.previous.instances.length).toBe(1);
    }
    const [event] = await sql`select payload from engine_events where type = 'migration.rolled_back' and payload->>'migrationId' = ${id}`;
    expect(event!.payload).toMatchObject({ checkpointId: pause!.id, checkpointSeq: 1, reason, requestedBy: ALICE, statusBefore: "completed" });
    expect(new Map(event!.payload.studies.map((s: { studyInstanceUid: string; previousRecordHash: string }) => [s.studyInstanceUid, s.previousRecordHash]))).toEqual(
      new Map([...after].map((uid) => [uid, hashOf.get(uid)])),
    );
    expect((await api(`${base(id)}/dashboard`)).body.events.map((e: { type: string }) => e.type)).toContain("migration.rolled_back");

    // Resume: the redo sends and verifies them again; the target holds each study once, every hash verified.
    const redoFrom = new Date();
    expect((await post(`${base(id)}/resume`)).status).toBe(200);
    await until(() => api(base(id)), (r) => r.body.status === "completed", 120_000, 200);
    expect((await api(base(id))).body.counts).toMatchObject({ migrated: STUDIES, pending: 0, inFlight: 0 });
    expect((await target.studies()).length).toBe(STUDIES);
    expect(((await fetch(`${target.http}/instances`).then((r) => r.json())) as string[]).length).toBe(STUDIES);
    const instances = await sql`select study_instance_uid, expected_sha256, target_sha256, verified_at from migration_instances where migration_id = ${id}`;
    expect(instances.length).toBe(STUDIES);
    for (const i of instances) {
      expect(i.target_sha256).toBe(i.expected_sha256);
      if (after.has(i.study_instance_uid)) expect(new Date(i.verified_at).getTime()).toBeGreaterThanOrEqual(redoFrom.getTime() - 1000);
    }
    const again = await sql`select payload->>'studyInstanceUid' as uid, count(*)::int as n from engine_events where type = 'migration.study_migrated' and payload->>'migrationId' = ${id} group by 1`;
    expect(new Map(again.map((r) => [r.uid, r.n]))).toEqual(new Map(migratedEvents.map((e) => [e.uid as string, after.has(e.uid as string) ? 2 : 1])));
    // The redo ran without a pause or a window: no checkpoint beyond the first.
    expect((await checkpoints(id)).map((c) => c.reason)).toEqual(["pause"]);
  }, 300_000);

  it("checkpoints when a window closes and hourly by the engine's clock; another migration's checkpoint is not found", async () => {
    // The first study waits before it is sent until released: the migration stays running meanwhile.
    let release!: () => void;
    gate = new Promise<void>((r) => (release = r));
    const id = await create("Checkpoints by the clock");
    expect((await post(`${base(id)}/start`)).status).toBe(202);
    // The runners' poll sees the window (none: always open) before it can see it close.
    await until(() => sql`select window_open_seen from migrations where id = ${id}`, (r) => r[0]?.window_open_seen === true, 15_000, 200);
    expect(await checkpoints(id)).toEqual([]);

    clock.current = new Date(clock.current.getTime() + 2 * 3_600_000);
    const [hourly] = await until(() => checkpoints(id), (c) => c.length === 1, 15_000, 200);
    expect(hourly).toMatchObject({ seq: 1, reason: "hourly", takenAt: clock.current.toISOString(), counts: { migrated: 0, pending: STUDIES } });
    await new Promise((r) => setTimeout(r, 3500)); // another poll: not due again within the hour
    expect((await checkpoints(id)).length).toBe(1);

    const closed = await api(`${base(id)}/settings`, { method: "PATCH", body: JSON.stringify({ windows: closedNow }) });
    expect(closed.status).toBe(200);
    const list = await until(() => checkpoints(id), (c) => c.length === 2, 15_000, 200);
    expect(list[1]).toMatchObject({ seq: 2, reason: "window_close" });
    const [event] = await sql`select payload from engine_events where type = 'migration.checkpoint' and payload->>'checkpointId' = ${list[1]!.id}`;
    expect(event!.payload).toMatchObject({ migrationId: id, seq: 2, reason: "window_close" });

    // Let the held study go (it fails and is quarantined; the closed window starts nothing else), then pause: the
    // pause checkpoint is the third.
    failNext = true;
    release();
    gate = null;
    await until(() => api(base(id)), (r) => r.body.counts.quarantined === 1 && r.body.counts.inFlight === 0, 30_000, 100);
    expect((await post(`${base(id)}/pause`)).status).toBe(200);
    expect((await checkpoints(id)).map((c) => [c.seq, c.reason])).toEqual([[1, "hourly"], [2, "window_close"], [3, "pause"]]);

    // The first migration's checkpoint is not this one's.
    const other = await post(`${base(id)}/rollback`, { checkpointId: firstCheckpoint.id, reason: "wrong one", requestedBy: ALICE });
    expect(other.status).toBe(404);
    expect(other.body.message).toContain("no such checkpoint");
    expect(firstId).not.toBe(id);
    // A reviewer skips the quarantined study: the skip is a completion after every checkpoint so far.
    const [q] = await sql`select source_id, study_instance_uid from migration_studies where migration_id = ${id} and status = 'quarantined'`;
    const signer = { userId: "u-rita", name: "Rita Reviewer", meaning: "reviewed and skipped" };
    const skipped = await post(`${base(id)}/decisions`, { sourceId: q!.source_id, studyInstanceUid: q!.study_instance_uid, decision: "skip", reason: "not needed at the target", signer });
    expect(skipped.status, JSON.stringify(skipped.body)).toBe(200);

    // Back to the hourly checkpoint: the skipped study is pending again, its quarantine and skip kept as history.
    const back = await post(`${base(id)}/rollback`, { checkpointId: hourly!.id, reason: "the skip was a mistake", requestedBy: ALICE });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body.studies).toEqual([expect.objectContaining({ studyInstanceUid: q!.study_instance_uid, previousStatus: "skipped", previousRecordHash: null })]);
    expect(back.body.migration.counts).toMatchObject({ pending: STUDIES, migrated: 0, quarantined: 0, skipped: 0 });
    const [h] = await sql`select previous from migration_study_history where migration_id = ${id}`;
    expect(h!.previous).toMatchObject({ status: "skipped", quarantineCategory: "transform_error", decision: { decision: "skip", signer: { name: "Rita Reviewer" } } });
  }, 240_000);

  it("a backup carries the checkpoints and the study history; a restore elsewhere keeps them, and older backups still restore", async () => {
    const other = await createTestDatabases();
    const from = connectEngineDb(dbs.engineUrl);
    try {
      await migrateEngineDatabase(other.engineUrl);
      const to = connectEngineDb(other.engineUrl);
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), "checkpoint-backup-")), "backup.json");
      const content = await takeBackup(from.db, firstId);
      expect(content.tables.migration_checkpoints.map((c) => c.reason)).toEqual(["pause"]);
      expect(content.tables.migration_study_history.length).toBeGreaterThan(0);
      writeFileSync(file, JSON.stringify(signBackup(content, privateKey, rawPublic(publicKey))));
      await restoreBackup(to.db, readBackup(file, [rawPublic(publicKey)]));
      const check = postgres(other.engineUrl, { max: 1, onnotice: () => {} });
      const [cp] = await check`select id, high_water from migration_checkpoints where migration_id = ${firstId}`;
      expect(cp).toMatchObject({ id: firstCheckpoint.id, high_water: String(firstCheckpoint.highWater) });
      const [{ n }] = (await check`select count(*)::int as n from migration_study_history where migration_id = ${firstId}`) as unknown as [{ n: number }];
      expect(n).toBe(content.tables.migration_study_history.length);
      // The completion numbers travel with the migration, so the checkpoint still splits its studies there.
      const [m] = await check`select completion_seq from migrations where id = ${firstId}`;
      expect(Number(m!.completion_seq)).toBeGreaterThan(firstCheckpoint.highWater);
      await check.end();
      await to.close();

      // A backup made before checkpoints existed has neither table: it is read with none.
      const { migration_checkpoints: _c, migration_study_history: _h, ...older } = content.tables;
      writeFileSync(file, JSON.stringify(signBackup({ ...content, tables: older } as typeof content, privateKey, rawPublic(publicKey))));
      expect(readBackup(file, [rawPublic(publicKey)]).content.tables).toMatchObject({ migration_checkpoints: [], migration_study_history: [] });
    } finally {
      await from.close();
      await other.drop();
    }
  }, 120_000);
});
