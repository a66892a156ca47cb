import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabases } from "../../../test/databases";
import { PYDICOM_TEST_FILES, datasetBytes, dcmtk } from "../../../test/dcmtk";
import { startTestEngine } from "../../../test/engine";
import { enrolTestRouter } from "../../../test/routers";
import { startStorescp } from "../../../test/pacs";
import { until } from "../../../test/until";
import { forwardExact } from "../../dicom/store-exact";
import { startRouterAgent } from "../../router-agent/agent";

const TOKEN = "private-sop-test-token-".padEnd(48, "p");
// A vendor's own object: a real CT instance relabelled with a private SOP class (a UID under a vendor root).
const PRIVATE_CLASS = "1.3.6.1.4.1.5962.99.1.2786.334.1";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";

describe("private storage SOP classes", () => {
  let dbs: Awaited<ReturnType<typeof createTestDatabases>>;
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  let pacs: Awaited<ReturnType<typeof startStorescp>>;
  let file: string;
  const api = async (p: string, init: RequestInit = {}) => {
    const res = await fetch(engine.url + p, { ...init, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } });
    return { status: res.status, body: await res.json() };
  };
  const put = (slug: string, ae: string, privateSopClasses?: unknown) =>
    api(`/v1/tenants/${slug}`, { method: "PUT", body: JSON.stringify({ ttlDays: 7, calledAeTitles: [ae], allowedCallingAeTitles: [], version: 1, ...(privateSopClasses ? { privateSopClasses } : {}) }) });
  // The vendor proposes exactly the file's own SOP class and transfer syntax (storescu with a profile, as
  // storescu alone refuses a class it does not know).
  const send = (ae: string) =>
    forwardExact(file, { sopClassUid: PRIVATE_CLASS, transferSyntaxUid: EXPLICIT_LE }, { host: "127.0.0.1", port: engine.dicomPort, aeTitle: ae }, "VENDOR").then(
      () => "stored",
      (e: Error) => e.message,
    );

  beforeAll(async () => {
    dbs = await createTestDatabases();
    engine = await startTestEngine(dbs.engineUrl, { token: TOKEN });
    pacs = await startStorescp("PACS", { promiscuous: true });
    file = path.join(mkdtempSync(path.join(os.tmpdir(), "private-")), "private.dcm");
    copyFileSync(path.join(PYDICOM_TEST_FILES, "CT_small.dcm"), file);
    expect((await dcmtk("dcmodify", ["-nb", "-m", `(0008,0016)=${PRIVATE_CLASS}`, file])).code).toBe(0);
  });
  afterAll(async () => {
    pacs?.stop();
    await engine?.close();
    await dbs?.drop();
  });

  it("refuses a malformed or standard UID in the configuration, naming it", async () => {
    for (const bad of [["1.2.840.10008.5.1.4.1.1.2"], ["1.02.3"], ["abc"], [PRIVATE_CLASS, PRIVATE_CLASS]]) {
      const r = await put("vendor", "VENDORPRIV", bad);
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/privateSopClasses/);
    }
  });

  it("accepts a private SOP class only for the tenant that allows it, and delivers it byte-exact", async () => {
    expect((await put("vendor", "VENDORPRIV", [PRIVATE_CLASS])).body.privateSopClasses).toEqual([PRIVATE_CLASS]);
    expect((await put("other", "OTHERSTD")).body.privateSopClasses).toEqual([]);

    // Another tenant (the default: standard classes only) refuses the presentation context.
    expect(await send("OTHERSTD")).toMatch(/did not accept/);
    expect((await api("/v1/tenants/other/results")).body.results).toEqual([]);

    expect(await send("VENDORPRIV")).toBe("stored");
    const [held] = (await api("/v1/tenants/vendor/results")).body.results;
    expect(held).toMatchObject({ status: "held", sopClassUid: PRIVATE_CLASS });

    const bundle = await enrolTestRouter(engine, TOKEN, "vendor", "site");
    const agent = startRouterAgent({
      gatewayUrl: `wss://localhost:${engine.gatewayPort}`,
      tls: { certPem: bundle.certificatePem, keyPem: bundle.privateKeyPem, caPem: bundle.caCertificatePem },
      spoolDir: mkdtempSync(path.join(os.tmpdir(), "spool-")),
      forward: (f, r) => forwardExact(f, r, { host: "127.0.0.1", port: pacs.port, aeTitle: pacs.aeTitle }, "ROUTER"),
      log: () => {},
    });
    try {
      await until(async () => (await api("/v1/tenants/vendor/results")).body.results[0]?.status, (s) => s === "acked");
    } finally {
      agent.stop();
    }
    const [delivered] = await pacs.files();
    expect(datasetBytes(readFileSync(delivered!)).equals(datasetBytes(readFileSync(file)))).toBe(true);
  });
});
