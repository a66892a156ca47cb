// Retry is not repair, against a real folder source and a real Orthanc target: a study whose source went away
// mid-migration is quarantined, then retried unchanged once the source is back and migrates; a retry carrying a tag
// patch is refused (that is a repair), and a study quarantined for what it contains cannot be retried.
import { renameSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { approveVersion } from "../../../test/migrations";
import { startOrthanc } from "../../../test/orthanc";
import { makeCtStudy } from "../../../test/studies";
import { until } from "../../../test/until";

const TOKEN = "migration-retry-".padEnd(48, "r");
const signer = { userId: "u-1", name: "Rita Reviewer", meaning: "I confirm this study is retried unchanged" };

describe("retry is not repair", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let target: Awaited<ReturnType<typeof startOrthanc>>;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "retry-imports-"));
  const away = path.join(importRoot, "north", "away");
  makeCtStudy(away, 3, { date: "2024-05-01", patientId: "AWAY-1" });
  makeCtStudy(path.join(importRoot, "north", "odd"), 1, { date: "2024-05-02", patientId: "ODD-1", extra: ["-i", "(0008,0005)=ISO_IR 999"] });

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const items = async (id: string) => ((await api(`/v1/tenants/north/quarantine?state=open&limit=50`)).body.items as { id: string; migrationId: string; sourceId: string; category: string; state: string }[]).filter((i) => i.migrationId === id);
  const decide = (itemId: string, body: Record<string, unknown>) => api(`/v1/tenants/north/quarantine/${itemId}/decision`, { method: "POST", body: JSON.stringify({ reason: "the archive was back online", signer, ...body }) });

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot } });
    target = await startOrthanc({ aeTitle: "NEWARCH" });
  }, 120_000);
  afterAll(async () => {
    await target?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("a study whose source was away is retried unchanged and migrates; a patch or a content fault is refused", async () => {
    const created = await api("/v1/tenants/north/migrations", {
      method: "POST",
      body: JSON.stringify({
        name: "Retry",
        sources: [{ kind: "filesystem", id: "away", path: "away" }, { kind: "filesystem", id: "odd", path: "odd" }],
        target: { kind: "dicom", aeTitle: target.aeTitle, host: "127.0.0.1", port: target.port },
        filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" },
      }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "ready", 60_000);
    // The source's folder goes away after discovery (a share unmounted): its study cannot be read.
    renameSync(away, `${away}-offline`);
    await api(`/v1/tenants/north/migrations/${id}/start`, { method: "POST" });
    await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed", 120_000);
    const open = await items(id);
    const gone = open.find((i) => i.sourceId === "away")!;
    const odd = open.find((i) => i.sourceId === "odd")!;
    expect(["source_unavailable", "incomplete_study"]).toContain(gone.category);
    expect(odd.category).toBe("character_set");

    // A retry carrying a patch is a repair, and a content fault sent unchanged fails again: both refused, nothing changes.
    const patched = await decide(gone.id, { decision: "retry", patch: [{ op: "set", tag: "00081030", value: "X" }] });
    expect(patched.status).toBe(400);
    expect(JSON.stringify(patched.body)).toContain("a tag patch makes it a repair");
    const content = await decide(odd.id, { decision: "retry" });
    expect(content.status).toBe(409);
    expect(content.body.message).toMatch(/fails the same way if it is sent again unchanged: repair it with a tag patch, or skip it/);
    expect((await items(id)).map((i) => i.state)).toEqual(["new", "new"]);

    // The source is back: retried as it is, the study migrates and the decision says retry, with no patch.
    renameSync(`${away}-offline`, away);
    const retried = await decide(gone.id, { decision: "retry" });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const done = await until(() => api(`/v1/tenants/north/migrations/${id}`), (r) => r.body.status === "completed" && r.body.counts.migrated === 1, 120_000);
    expect(done.body.counts).toMatchObject({ migrated: 1, quarantined: 1 });
    const resolved = ((await api(`/v1/tenants/north/quarantine?state=resolved&limit=50`)).body.items as { id: string; decision: { decision: string; patch: unknown } }[]).find((i) => i.id === gone.id)!;
    expect(resolved.decision).toMatchObject({ decision: "retry", patch: null });
    expect((await target.studies()).length).toBe(1);
    const events = (await api("/v1/events?after=0&limit=1000")).body.events as { type: string; payload: { migrationId?: string; studyInstanceUid?: string } }[];
    expect(events.filter((e) => e.type === "migration.study_retried" && e.payload.migrationId === id)).toHaveLength(1);
    expect(events.filter((e) => e.type === "migration.study_repaired" && e.payload.migrationId === id)).toHaveLength(0);
  }, 240_000);
});
