// A real migration (Orthanc → Orthanc through the engine) followed and controlled from the console: the dashboard
// moves live, pause stops new transfers and resume continues, a window edit and a cap change are audited and take
// effect, milestone webhooks arrive correctly signed while a failing receiver is retried and logged, the weekly
// report's PDF renders, tenant admins only look, and another tenant gets a 404.
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { startOrthanc } from "../test/orthanc";
import { makeStudies } from "../test/studies";
import { openGrant, signIn, webUrl } from "./helpers";
import { approveVersion } from "../test/migrations";

const STUDIES = 40;
const engineApi = async (p: string, init: RequestInit = {}) => {
  const res = await fetch(`${process.env.E2E_ENGINE_ADMIN_URL}${p}`, { ...init, headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}`, "content-type": "application/json" } });
  return { status: res.status, body: await res.json() };
};
const migrated = async (page: Page) => Number((await page.getByTestId("migrated-count").textContent())!.replace(/\D/g, ""));

type Delivery = { headers: http.IncomingHttpHeaders; body: string };
function receiver(status: number) {
  const got: Delivery[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  return new Promise<{ url: string; got: Delivery[]; close: () => void }>((r) =>
    server.listen(0, "127.0.0.1", () => r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, close: () => server.close() })),
  );
}

test.describe("migration dashboard", () => {
  test("live progress, control under a read-write grant, webhooks, the report PDF, read-only admins, other tenants 404", async ({ page, browser }) => {
    test.setTimeout(420_000);
    const [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEGACY" }), startOrthanc({ aeTitle: "NEWARCH" })]);
    const good = await receiver(204);
    const failing = await receiver(500);
    try {
      for (const s of makeStudies(STUDIES, ["2022-03-01", "2023-07-01"], ["CT", "MR"])) await source.upload(s.file);
      await expect.poll(async () => (await engineApi("/v1/tenants/northside")).status, { timeout: 30_000 }).toBe(200);
      // Capped low so the run lasts long enough to watch and control (CT_small ~39 kB, MR_small ~10 kB).
      const created = await engineApi("/v1/tenants/northside/migrations", {
        method: "POST",
        body: JSON.stringify({
          name: "Legacy PACS to new archive",
          sources: [{ kind: "dicom", id: "legacy", aeTitle: "LEGACY", host: "127.0.0.1", port: source.port }],
          target: { kind: "dicom", aeTitle: "NEWARCH", host: "127.0.0.1", port: target.port },
          filters: { studyDateFrom: "2022-01-01", studyDateTo: "2023-12-31" },
          concurrency: 1,
          bandwidth: { overallBytesPerSecond: 40_000 },
        }),
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id as string;
      await approveVersion({ url: process.env.E2E_ENGINE_ADMIN_URL!, token: process.env.E2E_ENGINE_ADMIN_TOKEN! }, "northside", id);
      await engineApi(`/v1/tenants/northside/migrations/${id}/discover`, { method: "POST" });
      await expect.poll(async () => (await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.status, { timeout: 60_000 }).toBe("ready");

      // The engineer opens a read-write grant and adds two receivers: the secret is shown once.
      await signIn(page, "engineer@vendor.test");
      await openGrant(page, "read_write");
      await page.goto(`${webUrl()}/t/northside/webhooks`);
      const secrets: string[] = [];
      for (const r of [good, failing]) {
        await page.getByLabel("URL").fill(r.url);
        await page.getByRole("button", { name: "Add" }).click();
        await expect(page.getByTestId("webhook-secret")).toBeVisible();
        secrets.push((await page.getByTestId("webhook-secret").textContent())!.trim());
        await page.reload();
        await expect(page.getByTestId("webhook-secret")).toHaveCount(0);
      }
      expect(secrets[0]).toMatch(/^whsec_/);
      // "Send test" reaches the receiver it was pressed for.
      await page.getByTestId("webhook-row").filter({ hasText: good.url }).getByRole("button", { name: "Send test" }).click();
      await expect.poll(() => good.got.filter((d) => JSON.parse(d.body).event === "test").length, { timeout: 30_000 }).toBe(1);
      expect(failing.got).toHaveLength(0);

      await engineApi(`/v1/tenants/northside/migrations/${id}/start`, { method: "POST" });
      await page.goto(`${webUrl()}/t/northside/migrations`);
      // (Other specs may have left migrations of their own in this tenant.)
      await expect(page.getByTestId("migration-row").filter({ hasText: "Legacy PACS to new archive" })).toBeVisible();
      await page.getByRole("link", { name: "Legacy PACS to new archive" }).click();
      await expect(page.getByTestId("burn-down").locator("svg").first()).toBeVisible();

      // Live: the count rises without a reload.
      const first = await migrated(page);
      await expect.poll(() => migrated(page), { timeout: 60_000 }).toBeGreaterThan(first);

      // Pause: nothing new starts; the figures stand still and the events show it.
      await page.getByRole("button", { name: "Pause" }).click();
      await expect(page.getByRole("status").filter({ hasText: "Paused" })).toBeVisible();
      await expect(page.getByTestId("state")).toHaveText("paused", { timeout: 15_000 });
      await expect.poll(async () => (await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.counts.inFlight, { timeout: 30_000 }).toBe(0);
      const atPause = (await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.counts.migrated as number;
      await page.waitForTimeout(6000);
      expect((await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.counts.migrated).toBe(atPause);
      await expect.poll(() => migrated(page)).toBe(atPause);
      await expect(page.getByTestId("events")).toContainText("paused");

      // A window closed now: after resume the migration runs but is outside its window, and nothing moves.
      await page.reload();
      await page.getByRole("button", { name: "Resume" }).click();
      await expect(page.getByTestId("state")).not.toHaveText("paused", { timeout: 15_000 });
      const now = new Date();
      const day = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][now.getUTCDay()]!;
      const settings = page.getByTestId("control-panel");
      await settings.getByRole("textbox", { name: /time zone/i }).fill("UTC");
      await settings.locator(`[data-cell="${day}-${now.getUTCHours()}"]`).click(); // close the current hour
      if (now.getUTCMinutes() >= 55) await settings.locator(`[data-cell="${day}-${(now.getUTCHours() + 1) % 24}"]`).click();
      await settings.getByLabel(/Overall cap/).fill("0.06");
      await settings.getByRole("button", { name: "Save settings" }).click();
      await expect(page.getByTestId("settings-result")).toContainText("Saved");
      await expect(page.getByTestId("state")).toHaveText("outside window", { timeout: 15_000 });
      const plan = (await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.plan;
      expect(plan.bandwidth.overallBytesPerSecond).toBe(60_000);
      expect(plan.windows.timeZone).toBe("UTC");
      await expect.poll(async () => (await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.counts.inFlight, { timeout: 30_000 }).toBe(0);
      const closed = (await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.counts.migrated as number;
      await page.waitForTimeout(4000);
      expect((await engineApi(`/v1/tenants/northside/migrations/${id}`)).body.counts.migrated).toBe(closed);

      // Open all again, no cap: it finishes.
      await settings.getByRole("button", { name: "open all" }).click();
      await settings.getByLabel(/Overall cap/).fill("");
      await settings.getByRole("button", { name: "Save settings" }).click();
      await expect(page.getByTestId("state")).toHaveText("finished", { timeout: 180_000 });
      await expect(page.getByTestId("progress")).toContainText("100 %");

      // Roll back to the pause's checkpoint: what completed after it goes back to pending, the migration waits
      // paused, and resuming redoes exactly those studies.
      await page.reload();
      const atPauseRow = page.getByTestId("checkpoint").filter({ hasText: "paused" }).first();
      await atPauseRow.getByRole("button", { name: "Roll back to here…" }).click();
      await atPauseRow.getByRole("textbox").fill("target volume remounted read-only during the night");
      await atPauseRow.getByRole("button", { name: "Roll back…" }).click();
      await atPauseRow.getByRole("button", { name: "Confirm rollback" }).click();
      await expect(page.getByTestId("rollback-result")).toContainText(`${STUDIES - atPause} studies to redo`);
      expect((await engineApi(`/v1/tenants/northside/migrations/${id}`)).body).toMatchObject({ status: "paused", counts: { migrated: atPause, pending: STUDIES - atPause } });
      await page.reload();
      await page.getByRole("button", { name: "Resume" }).click();
      await expect(page.getByTestId("state")).toHaveText("finished", { timeout: 180_000 });

      // Audited, with the grant: pause, resume and both settings changes.
      for (const action of ["migrations.pause", "migrations.resume", "migrations.settings", "migrations.rollback"]) {
        await page.goto(`${webUrl()}/t/northside/audit?action=${action}&target=migration:${id}`);
        await expect(page.getByTestId("audit-entries")).toContainText(action);
        await expect(page.getByTestId("audit-entries")).toContainText("engineer@vendor.test");
      }

      // Milestones, correctly signed, at the good receiver; the failing one retried and logged.
      await expect.poll(() => good.got.filter((d) => JSON.parse(d.body).event === "migration.milestone").length, { timeout: 60_000 }).toBe(4);
      for (const d of good.got) {
        const ts = d.headers["x-webhook-timestamp"] as string;
        const expected = createHmac("sha256", secrets[0]!).update(`${ts}.${d.body}`).digest("hex");
        expect(d.headers["x-webhook-signature"]).toBe(`sha256=${expected}`);
        expect(Math.abs(Date.now() / 1000 - Number(ts))).toBeLessThan(300);
      }
      const milestones = good.got.map((d) => JSON.parse(d.body)).filter((b) => b.event === "migration.milestone");
      expect(milestones.map((b) => b.data.percent).sort((a, b) => a - b)).toEqual([25, 50, 75, 100]);
      expect(milestones.every((b) => b.data.migrationId === id)).toBe(true);
      await expect.poll(() => failing.got.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(8); // 4 milestones, each tried again
      expect(new Set(failing.got.map((d) => JSON.parse(d.body).id)).size).toBe(4); // the same 4 deliveries, retried
      await page.goto(`${webUrl()}/t/northside/webhooks`);
      await expect(page.getByTestId("deliveries")).toContainText("500");
      await expect.poll(async () => Math.max(...(await page.getByTestId("delivery-attempts").allTextContents()).map(Number)), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);

      // The report, generated on demand: its page, and its PDF's first page is not blank.
      await page.goto(`${webUrl()}/t/northside/migrations/${id}`);
      await page.getByRole("button", { name: "Generate report now" }).click();
      await expect(page.getByTestId("report-row")).toHaveCount(1, { timeout: 60_000 });
      await page.getByTestId("report-row").getByRole("link", { name: "page" }).click();
      await expect(page.getByTestId("report")).toContainText("weekly report");
      await expect(page.getByTestId("report")).toContainText("Closeout");
      const pdfHref = await page.getByTestId("report-pdf").getAttribute("href");
      const pdf = await page.request.get(webUrl() + pdfHref);
      expect(pdf.headers()["content-type"]).toBe("application/pdf");
      const dir = mkdtempSync(path.join(os.tmpdir(), "report-pdf-"));
      writeFileSync(path.join(dir, "report.pdf"), await pdf.body());
      execFileSync("pdftoppm", ["-f", "1", "-l", "1", "-r", "40", "-gray", "-singlefile", path.join(dir, "report.pdf"), path.join(dir, "page")]);
      const pgm = readFileSync(path.join(dir, "page.pgm"));
      // Binary PGM: a short text header, then one byte per pixel; text and the chart make dark pixels.
      const dark = [...pgm.subarray(20)].filter((v) => v < 128).length;
      expect(dark, "dark pixels on the report's first page").toBeGreaterThan(500);
      // The report-ready webhook reached the good receiver.
      await expect
        .poll(() => good.got.some((d) => JSON.parse(d.body).event === "migration.report_ready"), { timeout: 30_000, message: `received: ${good.got.map((d) => JSON.parse(d.body).event).join(", ")}` })
        .toBe(true);

      // Closeout downloads.
      const rec = await page.request.get(`${webUrl()}/api/t/northside/migrations/${id}/closeout?part=reconciliation&format=json`);
      expect(await rec.json()).toMatchObject({ balanced: true, differences: [], target: { studiesChecked: STUDIES }, sources: [expect.objectContaining({ migrated: STUDIES })] });
      const csv = await page.request.get(`${webUrl()}/api/t/northside/migrations/${id}/closeout?part=verification&format=csv`);
      expect((await csv.text()).trimEnd().split("\r\n")).toHaveLength(STUDIES + 1);
      // The engineer is done: the grant ends (later specs expect an engineer without access).
      await page.goto(`${webUrl()}/t/northside/migrations/${id}`);
      await page.getByTestId("end-grant").click();
      await expect(page).toHaveURL(/\/ops\?ended=1/);

      // The tenant admin sees it, read-only; another tenant's admin gets a 404.
      const admin = await browser.newPage();
      await signIn(admin, "admin@northside.test", "demo", `/t/northside/migrations/${id}`);
      await expect(admin.getByTestId("progress")).toContainText("100 %");
      await expect(admin.getByTestId("read-only")).toBeVisible();
      await expect(admin.getByTestId("control-panel")).toHaveCount(0);
      await admin.close();
      const other = await browser.newPage();
      await signIn(other, "admin@lakeview.test", "demo", "/t/lakeview");
      expect((await other.goto(`${webUrl()}/t/northside/migrations/${id}`))?.status()).toBe(404);
      expect((await other.goto(`${webUrl()}/t/lakeview/migrations/${id}`))?.status()).toBe(404);
      expect((await other.request.get(`${webUrl()}/api/t/lakeview/migrations/${id}/dashboard`)).status()).toBe(404);
      await other.close();
    } finally {
      good.close();
      failing.close();
      await source.stop();
      await target.stop();
    }
  });
});
