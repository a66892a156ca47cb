// A migration plan as a controlled document, against the real engine and database: version 1 on create, each change
// a new numbered version with its hash, nothing discovered or started before a version is approved, the two-person
// rule, superseded versions, events carrying every hash and approval, another tenant refused; and a running
// migration whose new version takes effect only once approved (studies before it carry version 1, after it version 2,
// and only the latter hold the new rule's value at the target).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";

const TOKEN = "plan-versions-".padEnd(48, "v");
const AUTHOR = { userId: "u-author", name: "Ada Author" };
const APPROVER = { userId: "u-approver", name: "Bo Approver" };

// The hash recomputed here from the plan JSON the engine returns: keys sorted, no whitespace (written independently
// of the engine's canonicalJson, so a change there that alters hashes fails this test).
const sorted = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sorted) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
const sha = (plan: unknown) => createHash("sha256").update(JSON.stringify(sorted(plan))).digest("hex");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : n === "DICOMDIR" || n.includes(".") ? [] : [p];
  });
}
const element = (file: string, tag: string) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["-q", "+P", tag, file]).toString())?.[1]?.replace(/\0/g, "").trim() ?? null;

describe("migration plan versions", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "versions-import-"));
  const exportRoot = mkdtempSync(path.join(os.tmpdir(), "versions-export-"));

  const api = async (p: string, method = "GET", body?: unknown) => {
    const res = await fetch(engine.url + p, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const plan = (folder: string, out: string, extra: Record<string, unknown> = {}) => ({
    name: `from ${folder}`,
    sources: [{ kind: "filesystem", id: "scans", path: folder }],
    target: { kind: "filesystem", path: out },
    filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
    concurrency: 1,
    ...extra,
  });
  const approve = (base: string, n: number, signer: { userId: string; name: string }, requireDifferentPerson = true) =>
    api(`${base}/versions/${n}/approve`, "POST", { signer: { ...signer, meaning: "approved", signatureId: `sig-${n}-${signer.userId}`, signedAt: new Date().toISOString() }, requireDifferentPerson });
  const events = async (id: string, type: string) =>
    ((await api("/v1/events?after=0&limit=1000")).body.events as { type: string; tenantSlug: string; payload: Record<string, unknown> }[]).filter((e) => e.type === type && e.payload.migrationId === id);

  beforeAll(async () => {
    for (const [folder, n] of [["small", 2], ["running", 6]] as const) {
      const dir = path.join(importRoot, "north", folder);
      mkdirSync(dir, { recursive: true });
      makeStudies(n, ["2024-06-01", "2024-06-02"]).forEach((s, i) => copyFileSync(s.file, path.join(dir, `s${i}.dcm`)));
    }
    mkdirSync(path.join(exportRoot, "north"), { recursive: true });
    dbs = await createTestDatabases();
    // Each study takes a moment, so a version can be approved while the migration runs.
    const slow = { migration: { afterExtract: () => new Promise<void>((r) => setTimeout(r, 700)) } };
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot, ENGINE_EXPORT_ROOT: exportRoot }, hooks: slow });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    await dbs?.drop();
  });

  it("numbers versions from 1, hashes each, refuses discovery and start until one is approved, and keeps the two-person rule", async () => {
    const created = await api("/v1/tenants/north/migrations", "POST", { ...plan("small", "out-small"), createdBy: AUTHOR });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const base = `/v1/tenants/north/migrations/${id}`;
    expect(created.body).toMatchObject({ version: 1, versionInForce: null, pendingVersion: 1 });
    expect(created.body.plan).not.toHaveProperty("createdBy");

    // Nothing runs from an unapproved plan: both refusals name the version.
    const discover = await api(`${base}/discover`, "POST");
    expect(discover.status).toBe(409);
    expect(discover.body.message).toMatch(/Version 1 of this plan is not approved/);
    const start = await api(`${base}/start`, "POST");
    expect(start.status).toBe(409);
    expect(start.body.message).toMatch(/Version 1/);
    expect((await api(base)).body.status).toBe("created");

    // The author may not approve their own version under the two-person rule; a second person may.
    const own = await approve(base, 1, AUTHOR);
    expect(own.status).toBe(409);
    expect(own.body.message).toMatch(/Ada Author wrote version 1.*second person/);
    const ok = await approve(base, 1, APPROVER);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ version: 1, state: "in_force", author: AUTHOR, approval: { ...APPROVER, meaning: "approved", signatureId: "sig-1-u-approver" } });
    expect((await approve(base, 1, APPROVER)).status).toBe(409); // approved once only
    expect(await api(base).then((r) => r.body)).toMatchObject({ version: 1, versionInForce: 1, pendingVersion: null });

    // A new version: saved without a connection test, pending, and not in force.
    const v2plan = plan("small", "out-small", { priority: 70 });
    const saved = await api(`${base}/plan`, "PUT", { plan: v2plan, changedBy: APPROVER });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ version: 2, versionInForce: 1, pendingVersion: 2 });
    expect(saved.body.plan.priority).toBe(50); // version 1 is still in force
    await api(`${base}/plan`, "PUT", { plan: plan("small", "out-small", { priority: 80 }), changedBy: AUTHOR });
    const superseded = await approve(base, 2, AUTHOR);
    expect(superseded.status).toBe(409);
    expect(superseded.body.message).toMatch(/superseded by version 3/);

    const list = (await api(`${base}/versions`)).body as { versions: { version: number; state: string; planSha256: string; plan: unknown; author: unknown }[]; versionInForce: number };
    expect(list.versionInForce).toBe(1);
    expect(list.versions.map((v) => [v.version, v.state])).toEqual([[3, "pending"], [2, "superseded"], [1, "in_force"]]);
    for (const v of list.versions) expect(v.planSha256).toBe(sha(v.plan));
    expect(new Set(list.versions.map((v) => v.planSha256)).size).toBe(3);
    // The hash can fail: the same plan with one field changed hashes differently.
    expect(sha({ ...(list.versions[0]!.plan as object), priority: 81 })).not.toBe(list.versions[0]!.planSha256);

    // The event feed (and so the console's audit chain) holds every version's hash and every approval.
    const createdEvents = await events(id, "migration.plan_version_created");
    expect(createdEvents.map((e) => [e.payload.version, e.payload.planSha256])).toEqual(list.versions.map((v) => [v.version, v.planSha256]).reverse());
    expect(createdEvents[0]!.payload.author).toEqual(AUTHOR);
    const approvals = await events(id, "migration.plan_version_approved");
    expect(approvals).toHaveLength(1);
    expect(approvals[0]!.payload).toMatchObject({ version: 1, planSha256: list.versions[2]!.planSha256, signer: { userId: APPROVER.userId, signatureId: "sig-1-u-approver" } });

    // Now it can be discovered; version 3 becomes the plan once approved (by its author, when the rule is off).
    expect((await api(`${base}/discover`, "POST")).status).toBe(202);
    await until(() => api(base), (r) => r.body.status === "ready", 60_000);
    expect((await approve(base, 3, AUTHOR, false)).status).toBe(200);
    expect(await api(base).then((r) => r.body)).toMatchObject({ versionInForce: 3, pendingVersion: null, plan: { priority: 80 } });
  }, 120_000);

  it("validates a new version like a new plan, and another tenant sees none of it", async () => {
    const created = await api("/v1/tenants/north/migrations", "POST", plan("small", "out-other"));
    const id = created.body.id as string;
    const base = `/v1/tenants/north/migrations/${id}`;
    const outside = await api(`${base}/plan`, "PUT", { plan: plan("../south/secret", "out-other"), changedBy: AUTHOR });
    expect(outside.status).toBe(422);
    expect(outside.body.fields["sources.0.path"]).toHaveLength(1);
    const malformed = await api(`${base}/plan`, "PUT", { plan: { ...plan("small", "out-other"), concurrency: 99 }, changedBy: AUTHOR });
    expect(malformed.status).toBe(400);
    expect((await api(`${base}/plan`, "PUT", { plan: plan("small", "out-other") })).status).toBe(400); // who changed it is required
    expect((await api(`${base}/versions`)).body.versions).toHaveLength(1);
    // Without a recorded author the two-person rule cannot be met, so it refuses rather than guessing.
    expect((await approve(base, 1, APPROVER)).body.message).toMatch(/no recorded author/);

    const south = `/v1/tenants/south/migrations/${id}`;
    expect((await api(`${south}/versions`)).status).toBe(404);
    expect((await api(`${south}/plan`, "PUT", { plan: plan("small", "out-other"), changedBy: AUTHOR })).status).toBe(404);
    expect((await approve(south, 1, APPROVER, false)).status).toBe(404);
    expect(await api(base).then((r) => r.body)).toMatchObject({ version: 1, versionInForce: null });
  }, 60_000);

  it("a running migration's new version takes effect only once approved, and each study's record names its version", async () => {
    const created = await api("/v1/tenants/north/migrations", "POST", { ...plan("running", "out-running"), createdBy: AUTHOR });
    const id = created.body.id as string;
    const base = `/v1/tenants/north/migrations/${id}`;
    expect((await approve(base, 1, APPROVER)).status).toBe(200);
    await api(`${base}/discover`, "POST");
    await until(() => api(base), (r) => r.body.status === "ready", 60_000);
    expect((await api(`${base}/start`, "POST")).status).toBe(202);
    await until(() => api(base), (r) => r.body.counts.migrated >= 1, 60_000, 100);

    // Version 2 adds a rule; saved while running, it changes nothing until approved.
    const rule = { op: "set", tag: "00081030", value: "PLAN VERSION 2" };
    expect((await api(`${base}/plan`, "PUT", { plan: plan("running", "out-running", { transforms: [rule] }), changedBy: AUTHOR })).status).toBe(200);
    const pending = (await api(base)).body;
    expect(pending).toMatchObject({ status: "running", versionInForce: 1, pendingVersion: 2 });
    expect(pending.plan.transforms).toEqual([]);
    await until(() => api(base), (r) => r.body.counts.migrated >= 2, 60_000, 100);
    expect((await approve(base, 2, APPROVER)).status).toBe(200);
    const done = await until(() => api(base), (r) => r.body.status === "completed", 120_000, 300);
    expect(done.body.counts).toMatchObject({ migrated: 6, quarantined: 0 });

    const report = (await api(`${base}/report?format=json`)).body as {
      studies: { record: { studyInstanceUid: string; planVersion?: number; instances: { targetSopInstanceUid: string; sourceSha256: string; expectedSha256: string }[] } }[];
    };
    const byVersion = (n: number) => report.studies.filter((s) => s.record.planVersion === n);
    expect(byVersion(1).length).toBeGreaterThanOrEqual(2);
    expect(byVersion(2).length).toBeGreaterThanOrEqual(1);
    expect(byVersion(1).length + byVersion(2).length).toBe(6);
    // At the target, read back from the files themselves: only version 2's studies carry the new rule's value.
    const description = new Map(filesUnder(path.join(exportRoot, "north", "out-running")).map((f) => [element(f, "0008,0018"), element(f, "0008,1030")]));
    for (const s of byVersion(1)) for (const i of s.record.instances) {
      expect(description.get(i.targetSopInstanceUid)).not.toBe("PLAN VERSION 2");
      expect(i.expectedSha256).toBe(i.sourceSha256);
    }
    for (const s of byVersion(2)) for (const i of s.record.instances) {
      expect(description.get(i.targetSopInstanceUid)).toBe("PLAN VERSION 2");
      expect(i.expectedSha256).not.toBe(i.sourceSha256);
    }
  }, 240_000);
});
