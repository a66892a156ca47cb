// The self-hosted licence against a real engine, real PostgreSQL and DCMTK as the vendor: a licence issued by
// `npm run licence:issue` is accepted and reported; one byte changed, another signer's key and each limit give
// their own message; and once it expires new associations are rejected and migration work pauses, while a result
// held before the expiry still reaches the router and the PACS behind it. A renewed file (the daily re-check)
// lifts it all without a restart.
import { execFileSync } from "node:child_process";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, datasetDump, dcmtk } from "../../../test/dcmtk";
import { TestClock, startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { dayFrom, writeLicence } from "../../../test/licence";
import { approveVersion } from "../../../test/migrations";
import { startStorescp } from "../../../test/pacs";
import { makeStudies } from "../../../test/studies";
import { until } from "../../../test/until";
import { forwardExact } from "../../dicom/store-exact";
import { startRouterAgent } from "../../router-agent/agent";
import { loadEngineConfig } from "../../config";

const TOKEN = "licence-test-token-".padEnd(48, "l");
const CT = path.join(PYDICOM_TEST_FILES, "CT_small.dcm");
const MR = path.join(PYDICOM_TEST_FILES, "MR_small.dcm");
const REPO = path.resolve(import.meta.dirname, "../../..");

describe("self-hosted licence", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let sql: postgres.Sql;
  const clock = new TestClock();
  const logs: string[] = [];
  const work = mkdtempSync(path.join(os.tmpdir(), "licence-test-"));
  const vendorPem = path.join(work, "vendor.pem");
  const licenceFile = path.join(work, "licence.json");
  const importRoot = path.join(work, "import");
  const exportRoot = path.join(work, "export");
  let vendorKey: ReturnType<typeof createPrivateKey>;
  let vendorPublic: string;
  let router: { certificatePem: string; privateKeyPem: string; caCertificatePem: string };

  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const licence = async () => (await api("/v1/licence")).body;
  const storescu = (file = CT) => dcmtk("storescu", ["-aet", "VENDOR_AI", "-aec", "CLINIC", "127.0.0.1", String(engine.dicomPort), file]);
  const enroll = () => api("/v1/tenants/clinic/routers", { method: "POST", body: JSON.stringify({ name: "clinic site" }) });
  const base = (id: string) => `/v1/tenants/clinic/migrations/${id}`;
  /** Replaces the licence file (signed by the vendor key unless told otherwise) and runs the daily check now. */
  const relicense = async (over: Parameters<typeof writeLicence>[0] = {}) => {
    writeLicence({ deploymentId: "clinic-01", licensee: "Clinic", ...over }, vendorKey, licenceFile);
    await engine.checkLicence();
  };
  const today = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date().getUTCDay()]!;
  const closedNow = { timeZone: "UTC", intervals: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].filter((d) => d !== today), start: "00:00", end: "23:59" }] };

  beforeAll(async () => {
    mkdirSync(path.join(importRoot, "clinic", "scans"), { recursive: true });
    mkdirSync(path.join(exportRoot, "clinic"), { recursive: true });
    makeStudies(3, ["2024-06-01"], ["CT"]).forEach((s, i) => copyFileSync(s.file, path.join(importRoot, "clinic", "scans", `s${i}.dcm`)));
    // The issue script, as the vendor runs it (a new key is generated on first use and its public key printed).
    vendorPublic = execFileSync("npm", ["run", "-s", "licence:issue", "--", "--key", vendorPem, "--public-key"], { cwd: REPO, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
    execFileSync(
      "npm",
      ["run", "-s", "licence:issue", "--", "--key", vendorPem, "--licensee", "Clinic", "--deployment", "clinic-01", "--routers", "1", "--tenants", "1", "--migrated-tb", "1",
        "--expires", dayFrom(clock.now(), 39), "--maintenance-until", dayFrom(clock.now(), 365), "--out", licenceFile],
      { cwd: REPO, stdio: "ignore" },
    );
    vendorKey = createPrivateKey(readFileSync(vendorPem, "utf8"));
    dbs = await createTestDatabases();
    sql = postgres(dbs.engineUrl, { max: 2, onnotice: () => {} });
    pacs = await startStorescp();
    engine = await startTestEngine(dbs.engineUrl, {
      token: TOKEN,
      clock,
      log: (m) => logs.push(m),
      env: {
        ENGINE_MODE: "self-hosted",
        ENGINE_SELF_HOSTED_TENANT: "clinic",
        ENGINE_LICENCE_FILE: licenceFile,
        ENGINE_LICENCE_PUBLIC_KEY: vendorPublic,
        ENGINE_DEPLOYMENT_ID: "clinic-01",
        ENGINE_IMPORT_ROOT: importRoot,
        ENGINE_EXPORT_ROOT: exportRoot,
      },
    });
  }, 120_000);
  afterAll(async () => {
    pacs?.stop();
    await sql?.end();
    await engine?.close();
    await dbs?.drop();
  });

  it("accepts the licence the issue script made and reports features, limits, usage and days to expiry", async () => {
    const l = await licence();
    expect(l).toMatchObject({
      mode: "self-hosted",
      status: "valid",
      warning: null,
      daysToExpiry: 40,
      licence: { licensee: "Clinic", deploymentId: "clinic-01", features: ["relay", "migration"], limits: { routers: 1, tenants: 1, migratedTb: 1 }, expiresAt: dayFrom(clock.now(), 39) },
      usage: { routers: 0, tenants: 0, migratedTb: 0 },
    });
    expect(l.message).toContain("Licensed to Clinic");
    expect(logs.join("\n")).toMatch(/licence: Clinic, deployment clinic-01, relay \+ migration/);
  });

  it("over a limit: the new tenant, router or migration work is refused naming limit and usage", async () => {
    const put = () => api("/v1/tenants/clinic", { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: ["CLINIC"], allowedCallingAeTitles: [], version: 1 }) });
    await relicense({ limits: { routers: 1, tenants: 0, migratedTb: 1 }, expiresAt: dayFrom(clock.now(), 39) });
    const tenantRefused = await put();
    expect(tenantRefused.status).toBe(409);
    expect(tenantRefused.body).toMatchObject({ error: "licence_limit", message: expect.stringContaining("0 of 0 tenants") });

    await relicense({ limits: { routers: 1, tenants: 1, migratedTb: 1 }, expiresAt: dayFrom(clock.now(), 39) });
    expect((await put()).status).toBe(200);
    router = await enrolTestRouter(engine, TOKEN, "clinic", "clinic site");
    const routerRefused = await enroll();
    expect(routerRefused.status).toBe(409);
    expect(routerRefused.body.message).toMatch(/^Licence limit reached: 1 of 1 routers are enrolled or have an enrolment code/);

    // 2 TB already migrated (as the daily roll-up would hold it) against a 1 TB limit: starting is refused.
    const created = await api("/v1/tenants/clinic/migrations", {
      method: "POST",
      body: JSON.stringify({ name: "limit", sources: [{ kind: "filesystem", id: "scans", path: "scans" }], target: { kind: "filesystem", path: "out" }, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" } }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "clinic", id);
    expect((await api(`${base(id)}/discover`, { method: "POST" })).status).toBe(202);
    await until(() => api(base(id)), (r) => r.body.status === "ready", 60_000);
    await sql`insert into migration_daily (migration_id, day, source_id, bytes) values (${id}, '2024-01-01', 'scans', ${2e12})`;
    const tbRefused = await api(`${base(id)}/start`, { method: "POST" });
    expect(tbRefused.status).toBe(409);
    expect(tbRefused.body).toMatchObject({ error: "licence", message: expect.stringContaining("2 TB of 1 TB migrated") });
    expect((await licence()).usage).toEqual({ routers: 1, tenants: 1, migratedTb: 2 });
    await sql`delete from migration_daily where migration_id = ${id}`;
  });

  it("one byte changed: the signature does not verify, and new associations are rejected", async () => {
    await relicense({ expiresAt: dayFrom(clock.now(), 39), limits: { routers: 1, tenants: 1, migratedTb: 1 } });
    expect((await storescu()).code).toBe(0);
    const text = readFileSync(licenceFile, "utf8");
    const at = text.indexOf('"Clinic"') + 1;
    writeFileSync(licenceFile, text.slice(0, at) + "K" + text.slice(at + 1)); // "Clinic" → "Klinic"
    await engine.checkLicence();
    const l = await licence();
    expect(l.status).toBe("invalid");
    expect(l.message).toMatch(/signature does not verify: the file was changed after it was issued/);
    const r = await storescu();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Association Rejected/i);
    expect(r.stderr).toMatch(/Transient/i);
    expect(logs.join("\n")).toMatch(/rejected: Licence refused: the licence signature does not verify/);
  });

  it("signed by another key: not signed by the vendor key", async () => {
    writeLicence({ deploymentId: "clinic-01" }, generateKeyPairSync("ed25519").privateKey, licenceFile);
    await engine.checkLicence();
    const l = await licence();
    expect(l.status).toBe("invalid");
    expect(l.message).toMatch(/not signed by the vendor key/);
    // Another deployment's licence, properly signed, is refused too.
    await relicense({ deploymentId: "elsewhere-02" });
    expect((await licence()).message).toMatch(/for deployment "elsewhere-02", this engine is "clinic-01"/);
  });

  it("expired: new associations and migration work are refused, a running migration pauses, held results still reach the router", async () => {
    await relicense({ expiresAt: dayFrom(clock.now(), 1), limits: { routers: 1, tenants: 1, migratedTb: 1 } });
    const warned = await licence();
    expect(warned).toMatchObject({ status: "valid", daysToExpiry: 2 });
    expect(warned.warning).toMatch(/expires in 2 day\(s\)/);

    // Held before the expiry (with the one from the tampering test's first send), and a migration running
    // (outside its window, so nothing moves yet).
    expect((await storescu(MR)).code).toBe(0);
    const held = (await api("/v1/tenants/clinic/results")).body.results as Array<{ id: string; status: string }>;
    expect(held.length).toBe(2);
    const created = await api("/v1/tenants/clinic/migrations", {
      method: "POST",
      body: JSON.stringify({ name: "expiry", sources: [{ kind: "filesystem", id: "scans", path: "scans" }], target: { kind: "filesystem", path: "out2" }, filters: { studyDateFrom: "2024-01-01", studyDateTo: "2024-12-31" }, windows: closedNow }),
    });
    const id = created.body.id as string;
    await approveVersion({ url: engine.url, token: TOKEN }, "clinic", id);
    await api(`${base(id)}/discover`, { method: "POST" });
    await until(() => api(base(id)), (r) => r.body.status === "ready", 60_000);
    expect((await api(`${base(id)}/start`, { method: "POST" })).status).toBe(202);

    clock.advanceDays(3);
    const expired = await licence();
    expect(expired).toMatchObject({ status: "expired", daysToExpiry: -1 });
    expect(expired.message).toMatch(/^The licence expired on/);

    const r = await storescu();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Association Rejected/i);
    expect(logs.join("\n")).toMatch(/rejected: The licence expired on .*: new relay work \(DICOM associations\) is not accepted/);

    // Paused by the runners (not failed), with the reason on its event; starting or resuming is refused.
    await until(() => api(base(id)), (m) => m.body.status === "paused", 20_000, 200);
    const events = (await api(`${base(id)}/dashboard`)).body.events as Array<{ type: string; payload: { reason?: string } }>;
    expect(events.find((e) => e.type === "migration.paused")?.payload.reason).toMatch(/^The licence expired/);
    for (const action of ["resume", "start", "discover"]) {
      const refused = await api(`${base(id)}/${action}`, { method: "POST" });
      expect(refused.status, action).toBe(409);
      expect(refused.body.message, action).toMatch(/^The licence expired on .*migration work is not accepted/);
    }

    // The router enrolled before the expiry connects now: the held results reach the PACS and are acked.
    const agent = startRouterAgent({
      gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
      tls: { certPem: router.certificatePem, keyPem: router.privateKeyPem, caPem: router.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: (file, result) => forwardExact(file, result, { host: "127.0.0.1", port: pacs.port, aeTitle: pacs.aeTitle }, "ROUTER"),
      log: () => {},
    });
    try {
      await until(() => api("/v1/tenants/clinic/results").then((x) => x.body.results as Array<{ status: string }>), (rs) => rs.length === 2 && rs.every((x) => x.status === "acked"));
      const stored = await pacs.files();
      expect(stored).toHaveLength(2);
      expect((await Promise.all(stored.map(datasetDump))).sort()).toEqual((await Promise.all([CT, MR].map(datasetDump))).sort());
    } finally {
      agent.stop();
    }

    // Renewed: the daily check picks the new file up; the migration resumes and vendors are accepted again.
    await relicense({ expiresAt: dayFrom(clock.now(), 365), limits: { routers: 1, tenants: 1, migratedTb: 1 } });
    expect((await licence()).status).toBe("valid");
    expect((await api(`${base(id)}/resume`, { method: "POST" })).status).toBe(200);
    expect((await storescu()).code).toBe(0);
  }, 120_000);
});

describe("hosted mode", () => {
  it("needs no licence file: GET /v1/licence reports not_required", async () => {
    const dbs = await createTestDatabases();
    const engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    try {
      const res = await fetch(`${engine.url}/v1/licence`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(await res.json()).toMatchObject({ mode: "hosted", status: "not_required", licence: null, warning: null });
    } finally {
      await engine.close();
      await dbs.drop();
    }
  });
});

describe("licence configuration", () => {
  const ok = {
    ENGINE_DATABASE_URL: "postgres://x@localhost/x",
    ENGINE_ADMIN_TOKEN: "t".repeat(32),
    ENGINE_MASTER_KEY: Buffer.alloc(32).toString("base64"),
    ENGINE_MODE: "self-hosted",
    ENGINE_SELF_HOSTED_TENANT: "clinic",
  };
  it("self-hosted needs a licence file; the public key override is refused outside development and test", () => {
    expect(() => loadEngineConfig(ok)).toThrow(/ENGINE_LICENCE_FILE: required in self-hosted mode/);
    const key = Buffer.alloc(32, 1).toString("base64");
    expect(() => loadEngineConfig({ ...ok, ENGINE_LICENCE_FILE: "/l.json", ENGINE_LICENCE_PUBLIC_KEY: key, NODE_ENV: "production" })).toThrow(/ENGINE_LICENCE_PUBLIC_KEY: honoured only when NODE_ENV is development or test/);
    expect(loadEngineConfig({ ...ok, ENGINE_LICENCE_FILE: "/l.json", ENGINE_LICENCE_PUBLIC_KEY: key, NODE_ENV: "development" }).ENGINE_LICENCE_PUBLIC_KEY).toBe(key);
    // Hosted mode needs none (the CA files are what hosted mode asks for).
    expect(() => loadEngineConfig({ ...ok, ENGINE_MODE: "hosted", ENGINE_CA_CERT_FILE: "/ca.pem", ENGINE_CA_KEY_FILE: "/ca.key" })).not.toThrow();
  });
});
