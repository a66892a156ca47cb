// Acceptance: every file in Debian python3-pydicom's test set that storescu can send goes vendor → engine →
// router agent → PACS, and the PACS stores the same dataset bytes as a PACS that storescu sends to directly (the
// baseline absorbs what storescu itself changes on the wire, e.g. sequence lengths or trailing padding). Files that
// cannot go through are listed with why.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import dcmjs from "dcmjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, datasetBytes, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { startStorescp } from "../../../test/pacs";
import { startRouterAgent } from "../../router-agent/agent";
import { forwardExact } from "../../dicom/store-exact";
import { until } from "../../../test/until";

dcmjs.log.setLevel("error");
const TOKEN = "all-files-token-".padEnd(48, "a");

/** storescu's option proposing exactly the file's transfer syntax, so nothing is converted on the way in. */
const PROPOSE: Record<string, string> = {
  "1.2.840.10008.1.2": "-xi",
  "1.2.840.10008.1.2.1": "-xe",
  "1.2.840.10008.1.2.2": "-xb",
  "1.2.840.10008.1.2.1.99": "-xd",
  "1.2.840.10008.1.2.4.50": "-xy",
  "1.2.840.10008.1.2.4.51": "-xx",
  "1.2.840.10008.1.2.4.57": "-xs",
  "1.2.840.10008.1.2.4.70": "-xs",
  "1.2.840.10008.1.2.4.80": "-xt",
  "1.2.840.10008.1.2.4.81": "-xu",
  "1.2.840.10008.1.2.4.90": "-xv",
  "1.2.840.10008.1.2.4.91": "-xw",
  "1.2.840.10008.1.2.5": "-xr",
};

function transferSyntax(file: string): string | null {
  try {
    const b = readFileSync(file);
    const parsed = dcmjs.data.DicomMessage.readFile(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer, {
      untilTag: "00080016",
      ignoreErrors: true,
    });
    const ts = parsed.meta["00020010"]?.Value?.[0];
    return typeof ts === "string" ? ts.replace(/\0/g, "").trim() : null;
  } catch {
    return null;
  }
}


describe("every pydicom test file storescu can send arrives at the PACS with the same dataset", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let baseline: Awaited<ReturnType<typeof startStorescp>>;
  let agent: ReturnType<typeof startRouterAgent>;
  const outcome: { delivered: string[]; refusedByStorescu: string[]; notPart10: string[]; noStorescuOption: string[] } = {
    delivered: [],
    refusedByStorescu: [],
    notPart10: [],
    noStorescuOption: [],
  };

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    pacs = await startStorescp();
    baseline = await startStorescp("BASELINE");
    const call = (p: string, method: string, body: unknown) =>
      fetch(engine.url + p, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
    await call("/v1/tenants/site", "PUT", { ttlDays: 7, calledAeTitles: ["SITE"], allowedCallingAeTitles: [], version: 1 });
    const bundle = await enrolTestRouter(engine, TOKEN, "site", "all-files");
    agent = startRouterAgent({
      gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
      tls: { certPem: bundle.certificatePem, keyPem: bundle.privateKeyPem, caPem: bundle.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: (file, result) => forwardExact(file, result, { host: "127.0.0.1", port: pacs.port, aeTitle: pacs.aeTitle }, "ROUTER"),
      log: () => {},
    });
  });
  afterAll(async () => {
    agent?.stop();
    pacs?.stop();
    baseline?.stop();
    await engine?.close();
    await dbs?.drop();
    console.log(`relay acceptance over ${PYDICOM_TEST_FILES}:\n${JSON.stringify(outcome, null, 2)}`);
  });

  it("relays each file byte-exact for the dataset", { timeout: 600_000 }, async () => {
    const files = readdirSync(PYDICOM_TEST_FILES)
      .filter((f) => f.endsWith(".dcm") && (!process.env.RELAY_FILES || process.env.RELAY_FILES.split(",").includes(f)))
      .sort();
    if (!process.env.RELAY_FILES) expect(files.length).toBeGreaterThan(50);
    const mismatches: string[] = [];
    for (const name of files) {
      const file = path.join(PYDICOM_TEST_FILES, name);
      if (process.env.RELAY_TIMING) console.log(`${new Date().toISOString()} start ${name}`);
      const ts = transferSyntax(file);
      if (!ts) {
        outcome.notPart10.push(name);
        continue;
      }
      const flag = PROPOSE[ts];
      if (!flag) {
        outcome.noStorescuOption.push(`${name} (${ts})`);
        continue;
      }
      for (const f of [...(await pacs.files()), ...(await baseline.files())]) await rm(f, { force: true });
      const t0 = Date.now();
      // Short ACSE/DIMSE timeouts: storescu gives up quickly on files it cannot finish (truncated ones).
      const sent = await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "SITE", "-ta", "3", "-td", "3", flag, "127.0.0.1", String(engine.dicomPort), file]);
      if (sent.code !== 0) {
        outcome.refusedByStorescu.push(`${name}: ${(sent.stderr.split("\n").find((l) => l.startsWith("E:")) ?? "").slice(0, 160)}`);
        continue;
      }
      const t1 = Date.now();
      const [stored] = await until(() => pacs.files(), (f) => f.length === 1);
      if (process.env.RELAY_TIMING) console.log(`${name}: storescu ${t1 - t0} ms, delivered after ${Date.now() - t1} ms`);
      const direct = await dcmtk("storescu", ["-aet", "VENDOR", "-aec", "BASELINE", flag, "127.0.0.1", String(baseline.port), file]);
      expect(direct.code, direct.stderr).toBe(0);
      const [reference] = await baseline.files();
      if (!datasetBytes(await readFile(stored!)).equals(datasetBytes(await readFile(reference!)))) mismatches.push(name);
      else outcome.delivered.push(name);
    }
    expect(mismatches).toEqual([]);
    // Nothing half-stored: every result in the queue was delivered and acked, and no partial blob is left.
    const queue = await fetch(`${engine.url}/v1/tenants/site/results?limit=500`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
    expect(queue.results.filter((r: { status: string }) => r.status !== "acked")).toEqual([]);
    expect(readdirSync(path.join(engine.blobDir, "site")).filter((f) => f.endsWith(".partial"))).toEqual([]);
    if (!process.env.RELAY_FILES) expect(outcome.delivered.length).toBeGreaterThan(40);
  });
});
