// Connection tests and the discovery inventory against real archives (Debian Orthanc): each failure a PACS
// administrator can meet (wrong port, wrong AE title, a port that does not speak DICOM, a DICOMweb URL with the
// wrong path) is reported in words that say what to fix.
import { mkdtempSync, mkdirSync, copyFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { startTestEngine } from "../../../test/engine";
import { startOrthanc } from "../../../test/orthanc";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { freePort } from "../../../scripts/lib/ports";
import { approveVersion } from "../../../test/migrations";

const TOKEN = "plan-routes-token-".padEnd(48, "p");

describe("connection tests and inventory", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let archive: Awaited<ReturnType<typeof startOrthanc>>;
  let web: Awaited<ReturnType<typeof startOrthanc>>;
  let garbage: net.Server;
  let garbagePort: number;
  const importRoot = mkdtempSync(path.join(os.tmpdir(), "plan-import-"));
  const studies = makeStudies(6, ["2022-03-01", "2023-06-15"], ["CT", "MR"]);

  const api = async (p: string, body?: unknown) => {
    const res = await fetch(engine.url + p, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const test = (body: unknown) => api("/v1/tenants/north/connection-tests", body);
  const peer = (over: Record<string, unknown> = {}) => ({ kind: "dicom", id: "legacy", aeTitle: archive.aeTitle, host: "127.0.0.1", port: archive.port, ...over });

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN, env: { ENGINE_IMPORT_ROOT: importRoot } });
    [archive, web] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "WEBARCH", dicomWeb: true })]);
    for (const s of studies) await archive.upload(s.file);
    mkdirSync(path.join(importRoot, "north", "disc"), { recursive: true });
    mkdirSync(path.join(importRoot, "north", "empty"), { recursive: true });
    copyFileSync(studies[0]!.file, path.join(importRoot, "north", "disc", "IM0001"));
    garbagePort = await freePort();
    garbage = net.createServer((sock) => sock.end(Buffer.from("HTTP/1.1 200 OK\r\n\r\nthis is not DICOM")));
    await new Promise<void>((r) => garbage.listen(garbagePort, "127.0.0.1", r));
  }, 120_000);
  afterAll(async () => {
    garbage?.close();
    await archive?.stop();
    await web?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("a reachable archive passes C-ECHO and the C-FIND probe", async () => {
    const r = await test({ role: "source", endpoint: peer() });
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(r.body.checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).toEqual([["c-echo", true], ["c-find", true]]);
  });

  it("a wrong port is connection refused, naming the port", async () => {
    const closed = await freePort();
    const r = await test({ role: "source", endpoint: peer({ port: closed }) });
    expect(r.body.ok).toBe(false);
    expect(r.body.checks[0]).toMatchObject({ check: "c-echo", ok: false, failure: "refused" });
    expect(r.body.checks[0].message).toContain(`Connection refused at 127.0.0.1:${closed}`);
    expect(r.body.checks[0].message).toContain("Check the port number");
  });

  it("a wrong AE title is an association rejected: called AE not recognised", async () => {
    const r = await test({ role: "target", endpoint: { kind: "dicom", aeTitle: "NOSUCHAE", host: "127.0.0.1", port: archive.port } });
    expect(r.body.checks[0]).toMatchObject({ check: "c-echo", ok: false, failure: "called-ae-unknown" });
    expect(r.body.checks[0].message).toContain('does not recognise the called AE title "NOSUCHAE"');
  });

  it("a port that does not speak DICOM is reported, not hung on", async () => {
    const r = await test({ role: "source", endpoint: peer({ port: garbagePort }) });
    expect(r.body.ok).toBe(false);
    expect(r.body.checks[0].ok).toBe(false);
    expect(r.body.checks[0].message.length).toBeGreaterThan(10);
  });

  it("DICOMweb: QIDO-RS answered at the right root, HTTP 404 with a hint at a wrong path, refused at a closed port", async () => {
    const ok = await test({ role: "target", endpoint: { kind: "stow-rs", url: web.dicomWebUrl } });
    expect(ok.body).toMatchObject({ ok: true, checks: [{ check: "qido-rs", ok: true }] });
    const wrongPath = await test({ role: "target", endpoint: { kind: "stow-rs", url: `${web.http}/wrong` } });
    expect(wrongPath.body.checks[0]).toMatchObject({ ok: false, failure: "http" });
    expect(wrongPath.body.checks[0].message).toContain("HTTP 404");
    const closed = await freePort();
    const refused = await test({ role: "target", endpoint: { kind: "stow-rs", url: `http://127.0.0.1:${closed}/dicom-web` } });
    expect(refused.body.checks[0]).toMatchObject({ ok: false, failure: "refused" });
  });

  it("a folder: readable, empty, missing, or outside the tenant's import folder", async () => {
    const folder = (p: string) => test({ role: "source", endpoint: { kind: "filesystem", id: "disc", path: p } });
    expect((await folder("disc")).body).toMatchObject({ ok: true, checks: [{ check: "folder", ok: true }] });
    expect((await folder("empty")).body.checks[0]).toMatchObject({ ok: false, message: "empty is an empty folder." });
    expect((await folder("missing")).body.checks[0].message).toContain("does not exist");
    expect((await folder("../../")).body.checks[0].message).toContain("outside this tenant's import folder");
  });

  it("bad input is a 400 naming the field", async () => {
    const r = await test({ role: "source", endpoint: peer({ port: "eleven" }) });
    expect(r.status).toBe(400);
  });

  it("the inventory counts what discovery found per source, modality and year; another tenant gets 404", async () => {
    const res = await api("/v1/tenants/north/migrations", {
      name: "inventory",
      sources: [peer()],
      target: { kind: "dicom", aeTitle: archive.aeTitle, host: "127.0.0.1", port: archive.port },
      filters: { studyDateFrom: "2020-01-01", studyDateTo: "2024-12-31" },
    });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "north", id);
    await api(`/v1/tenants/north/migrations/${id}/discover`, {});
    await until(async () => (await api(`/v1/tenants/north/migrations/${id}`)).body.status, (s) => s === "ready");
    const inv = (await api(`/v1/tenants/north/migrations/${id}/inventory`)).body;
    // Independent facts: the studies we made, and their modality and year.
    expect(inv.studies).toBe(studies.length);
    const expected = new Map<string, number>();
    for (const s of studies) expected.set(`${s.modality} ${s.date.slice(0, 4)}`, (expected.get(`${s.modality} ${s.date.slice(0, 4)}`) ?? 0) + 1);
    expect(new Map(inv.rows.map((r: { modality: string; year: string; studies: number }) => [`${r.modality} ${r.year}`, r.studies]))).toEqual(expected);
    expect(inv.instances).toBeGreaterThanOrEqual(studies.length);
    expect((await api(`/v1/tenants/south/migrations/${id}/inventory`)).status).toBe(404);
  });

  it("the preview applies the plan's rules to a real sample study and marks what changed", async () => {
    const plan = {
      name: "preview",
      sources: [peer()],
      target: { kind: "dicom", aeTitle: archive.aeTitle, host: "127.0.0.1", port: archive.port },
      filters: { studyDateFrom: "2020-01-01", studyDateTo: "2024-12-31" },
      transforms: [
        { op: "set", tag: "00081030", value: "MIGRATED FROM LEGACY" },
        { op: "map", tag: "00080080", values: { "NO SUCH HOSPITAL": "x" } },
        { op: "remove", tag: "00100030", sources: ["other-source"] },
      ],
    };
    const r = await api("/v1/tenants/north/transform-previews", { plan, sourceId: "legacy" });
    expect(r.status).toBe(200);
    expect(studies.map((s) => s.file).length).toBeGreaterThan(0);
    expect(r.body.instances.length).toBeGreaterThan(0);
    for (const inst of r.body.instances) {
      const desc = inst.elements.find((e: { tag: string }) => e.tag === "00081030");
      expect(desc).toMatchObject({ after: "MIGRATED FROM LEGACY", changed: true });
      // A rule scoped to another source, or a map with no matching value, changes nothing; nor is anything else touched.
      const changed = inst.elements.filter((e: { changed: boolean }) => e.changed).map((e: { tag: string }) => e.tag);
      expect(changed).toEqual(["00081030"]);
      expect(inst.sopInstanceUid).toMatch(/^[0-9.]+$/);
    }
  });

  it("a preview with no study in the filters is refused with the reason", async () => {
    const plan = {
      name: "preview",
      sources: [peer()],
      target: { kind: "dicom", aeTitle: archive.aeTitle, host: "127.0.0.1", port: archive.port },
      filters: { studyDateFrom: "1990-01-01", studyDateTo: "1990-12-31" },
    };
    const r = await api("/v1/tenants/north/transform-previews", { plan, sourceId: "legacy" });
    expect(r.status).toBe(422);
    expect(r.body.message).toContain("holds no study between 1990-01-01 and 1990-12-31");
    expect((await api("/v1/tenants/north/transform-previews", { plan, sourceId: "nope" })).status).toBe(422);
  });
});
