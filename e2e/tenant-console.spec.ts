// The tenant admin's pages against the real stack: a vendor's storescu, the engine, the router agent with the
// bundle downloaded from the console, DCMTK storescp as the PACS, and the engine stopped and started under it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { startStorescp } from "../test/pacs";
import { signIn, webUrl } from "./helpers";

const ROOT = path.resolve(import.meta.dirname, "..");
const TEST_FILES = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
const engine = (p: string, init?: RequestInit) =>
  fetch(`${process.env.E2E_ENGINE_ADMIN_URL}${p}`, { ...init, headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}`, ...init?.headers } });
const control = (what: "stop" | "start") => fetch(`${process.env.E2E_CONTROL_URL}/engine/${what}`, { method: "POST" }).then((r) => expect(r.status).toBe(204));

/** Copies of a pydicom test file with fresh SOP instance UIDs, sent by a vendor with storescu; returns their UIDs. */
function vendorSends(count: number, calledAe = "NORTHSIDE", source = "CT_small.dcm") {
  const dir = mkdtempSync(path.join(os.tmpdir(), "vendor-"));
  const files = Array.from({ length: count }, (_, i) => {
    const f = path.join(dir, `r${i}.dcm`);
    copyFileSync(path.join(TEST_FILES, source), f);
    return f;
  });
  execFileSync("dcmodify", ["-nb", "-gin", ...files]);
  execFileSync("storescu", ["-aet", "AI_VENDOR", "-aec", calledAe, "localhost", process.env.E2E_ENGINE_DICOM_PORT!, ...files]);
  return files.map((f) => /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", f]).toString())![1]!);
}

const row = (page: Page, uid: string) => page.locator(`[data-testid=hold-queue-row][data-sop-instance-uid="${uid}"]`);

test.describe("tenant console: hold queue, routers, retention, AE titles", () => {
  let agent: ChildProcess | undefined;
  let pacs: Awaited<ReturnType<typeof startStorescp>> | undefined;
  test.afterAll(() => {
    agent?.kill("SIGTERM");
    pacs?.stop();
  });

  test("results appear live, one is purged with a reason, and the router agent enrolled from the console delivers the other", async ({ page }) => {
    test.setTimeout(120_000);
    await signIn(page, "admin@northside.test");
    await page.getByRole("link", { name: "Hold queue" }).click();
    await expect(page.getByTestId("hold-queue")).toBeVisible();

    const [keep, purge] = vendorSends(2);
    // No reload: the table polls.
    await expect(row(page, keep!)).toBeVisible({ timeout: 10_000 });
    await expect(row(page, purge!)).toBeVisible();
    await expect(row(page, keep!).getByTestId("status")).toHaveText("held");
    await expect(row(page, keep!)).toContainText("CT Image Storage");

    // Purge one: a reason and a confirmation; the engine confirms.
    await row(page, purge!).getByRole("link").click();
    await expect(page.getByTestId("timeline")).toContainText("Received from the vendor");
    await page.getByLabel(/Reason for purging/).fill("sent to the wrong site");
    await page.getByRole("button", { name: "Purge…" }).click();
    await page.getByRole("button", { name: "Yes, purge" }).click();
    // The page re-renders with the new status (the purge controls are gone: nothing is left to purge).
    await expect(page.getByTestId("result-status")).toHaveText("purged");
    await expect(page.getByTestId("timeline")).toContainText("Purged: sent to the wrong site");
    const id = page.url().split("/").pop()!;
    const purged = await (await engine(`/v1/tenants/northside/results/${id}`)).json();
    expect(purged.status).toBe("purged");

    // Enroll a router; the bundle comes as a download, with the command to start the agent.
    await page.getByRole("link", { name: "Routers" }).click();
    await page.getByLabel("Name (site or host)").fill("e2e-site");
    await page.getByRole("button", { name: "Enroll" }).click();
    await expect(page.getByTestId("agent-command")).toContainText("ROUTER_BUNDLE_FILE=");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("bundle-download").click()]);
    const bundleFile = path.join(mkdtempSync(path.join(os.tmpdir(), "bundle-")), download.suggestedFilename());
    await download.saveAs(bundleFile);
    // A one-time code, and no private key: the router makes its own on first start.
    await expect(page.getByTestId("enrolment-code")).toHaveText(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    expect(readFileSync(bundleFile, "utf8")).not.toContain("PRIVATE KEY");

    pacs = await startStorescp("E2E_PACS");
    agent = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "engine/router-agent/main.ts")], {
      cwd: ROOT,
      env: { ...process.env, ROUTER_BUNDLE_FILE: bundleFile, ROUTER_PACS_AE: "E2E_PACS", ROUTER_PACS_HOST: "127.0.0.1", ROUTER_PACS_PORT: String(pacs.port), ROUTER_SPOOL_DIR: mkdtempSync(path.join(os.tmpdir(), "spool-")), ROUTER_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), "router-state-")) },
      stdio: "ignore",
    });
    await expect(page.getByTestId("router-row").filter({ hasText: "e2e-site" })).toContainText("connected", { timeout: 20_000 });

    await page.getByRole("link", { name: "Hold queue" }).click();
    await expect(row(page, keep!).getByTestId("status")).toHaveText("acked", { timeout: 30_000 });
    await expect(row(page, purge!).getByTestId("status")).toHaveText("purged");
    // The PACS got the kept result and not the purged one (storescp names files by SOP Instance UID).
    const stored = (await pacs.files()).map((f) => path.basename(f));
    expect(stored.some((f) => f.endsWith(keep!))).toBe(true);
    expect(stored.some((f) => f.endsWith(purge!))).toBe(false);
    agent.kill("SIGTERM");
  });

  test("changing the TTL previews its effect on the live queue, then goes from pending to applied in the engine", async ({ page }) => {
    vendorSends(3);
    const live = async () => (await (await engine("/v1/tenants/northside/results?status=held,notified,pulled&limit=500")).json()).results as { receivedAt: string; expiresAt: string }[];
    await expect.poll(async () => (await live()).length).toBeGreaterThanOrEqual(3);
    const liveCount = (await live()).length;

    await signIn(page, "admin@northside.test", "demo", "/t/northside/retention");
    await expect(page.getByTestId("apply-status")).toContainText("Applied");
    const ttl = page.getByLabel(/New TTL/);
    await ttl.fill("30");
    await expect(page.getByTestId("impact")).toContainText(`Of the ${liveCount} results`);
    await expect(page.getByTestId("gain-time")).toHaveText(String(liveCount));
    await ttl.fill("1");
    await expect(page.getByTestId("lose-time")).toHaveText(String(liveCount)); // received today: sooner, not at once
    await expect(page.getByTestId("expire-now")).toHaveText("0");
    await ttl.fill("31");
    await expect(page.getByText("Enter a whole number of days from 1 to 30.")).toBeVisible();

    await ttl.fill("9");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByTestId("save-result")).toContainText("Saved as version");
    await expect(page.getByTestId("current-ttl")).toHaveText("9 days");
    await expect(page.getByTestId("apply-status")).toContainText("Applied by the engine", { timeout: 30_000 });
    const cfg = await (await engine("/v1/tenants/northside")).json();
    expect(cfg.ttlDays).toBe(9);
    for (const r of await live()) expect(Date.parse(r.expiresAt) - Date.parse(r.receivedAt)).toBe(9 * 86_400_000);
  });

  test("AE titles are validated, unique across tenants without naming the owner, and testable with C-ECHO", async ({ page }) => {
    await signIn(page, "admin@northside.test", "demo", "/t/northside/ae-titles");
    const called = page.getByTestId("called-ae-titles");
    const add = async (title: string) => {
      await called.getByLabel("Add an AE title").fill(title);
      await called.getByRole("button", { name: "Add" }).click();
    };
    await add("LAKEVIEW");
    await expect(page.getByTestId("called-add-result")).toHaveText(/already in use by another tenant/);
    await expect(page.getByTestId("called-add-result")).not.toContainText(/lakeview imaging/i);
    await add("ABCDEFGHIJKLMNOPQ");
    await expect(page.getByTestId("called-add-result")).toHaveText(/at most 16 characters/);
    await add("BAD\\TITLE");
    await expect(page.getByTestId("called-add-result")).toHaveText(/no backslash/);
    await add("   ");
    await expect(page.getByTestId("called-add-result")).toHaveText(/cannot be empty/);
    await add("  NORTH_CT  ");
    await expect(page.getByTestId("called-add-result")).toHaveText(/Added NORTH_CT/);
    await expect(called.getByText("NORTH_CT", { exact: true })).toBeVisible();

    await called.locator("li", { hasText: "NORTHSIDE" }).filter({ hasNotText: "NORTH_CT" }).getByRole("button", { name: "Test" }).click();
    await expect(called.getByTestId("ae-title-note").first()).toHaveText(/C-ECHO succeeded/);
    await called.getByPlaceholder("Test another called AE title").fill("NOBODY_HERE");
    await called.getByRole("form", { name: "Test a called AE title" }).getByRole("button", { name: "Test" }).click();
    await expect(called.getByTestId("ae-title-note").last()).toHaveText(/does not recognize NOBODY_HERE/);

    // The new title reaches the engine.
    await expect.poll(async () => (await (await engine("/v1/tenants/northside")).json()).calledAeTitles, { timeout: 30_000 }).toContain("NORTH_CT");

    // A vendor's private SOP class: a standard UID is refused with why, what was typed stays; a private one reaches the engine.
    const sopClasses = page.getByTestId("private-sop-classes");
    await sopClasses.getByLabel("Add a SOP class UID").fill("1.2.840.10008.5.1.4.1.1.2");
    await sopClasses.getByRole("button", { name: "Add" }).click();
    await expect(page.getByTestId("private-sop-class-result")).toHaveText(/standard DICOM UID/);
    await expect(sopClasses.getByLabel("Add a SOP class UID")).toHaveValue("1.2.840.10008.5.1.4.1.1.2");
    await sopClasses.getByLabel("Add a SOP class UID").fill("1.3.6.1.4.1.5962.99.1.7");
    await sopClasses.getByRole("button", { name: "Add" }).click();
    await expect(page.getByTestId("private-sop-class-result")).toHaveText(/is accepted from the next configuration/);
    await expect(sopClasses.getByTestId("private-sop-class")).toHaveText(["1.3.6.1.4.1.5962.99.1.7Remove"]);
    await expect.poll(async () => (await (await engine("/v1/tenants/northside")).json()).privateSopClasses, { timeout: 30_000 }).toEqual(["1.3.6.1.4.1.5962.99.1.7"]);
  });

  test("a clinical reviewer reads these pages without any control, and the server refuses a replayed admin action", async ({ page, browser }) => {
    // Capture a real server-action request from the admin's retention form…
    await signIn(page, "admin@northside.test", "demo", "/t/northside/retention");
    await page.getByLabel(/New TTL/).fill("12");
    const [request] = await Promise.all([
      // The form's own action (its fields), not the preview or status actions the page also calls as it updates.
      page.waitForRequest((r) => r.method() === "POST" && !!r.headers()["next-action"] && !!r.postData()?.includes("expectedVersion")),
      page.getByRole("button", { name: "Save" }).click(),
    ]);
    await expect(page.getByTestId("current-ttl")).toHaveText("12 days");

    const reviewer = await browser.newPage();
    await signIn(reviewer, "reviewer@northside.test");
    for (const p of ["hold-queue", "routers", "retention", "ae-titles"]) {
      await reviewer.goto(`${webUrl()}/t/northside/${p}`);
      await expect(reviewer.getByRole("heading", { level: 1 })).toBeVisible();
      await expect(reviewer.getByRole("button", { name: /Enroll|Save|Add|Remove|Purge|Revoke/ })).toHaveCount(0);
    }
    // …and replay it with the reviewer's session: refused, nothing changes.
    const headers = request.headers();
    const replay = await reviewer.request.post(request.url(), {
      headers: { "next-action": headers["next-action"]!, "content-type": headers["content-type"]!, accept: headers["accept"] ?? "text/x-component" },
      data: request.postDataBuffer()!,
    });
    expect(replay.status()).toBeGreaterThanOrEqual(400);
    await reviewer.goto(`${webUrl()}/t/northside/retention`);
    await expect(reviewer.getByTestId("current-ttl")).toHaveText("12 days");
    await reviewer.close();
  });

  test("another tenant's admin gets 404 on these pages and their API", async ({ page }) => {
    await signIn(page, "admin@lakeview.test");
    await expect(page).toHaveURL(/\/t\/lakeview$/);
    for (const p of ["hold-queue", "routers", "retention", "ae-titles"]) {
      expect((await page.goto(`${webUrl()}/t/northside/${p}`))?.status(), p).toBe(404);
    }
    expect((await page.request.get(`${webUrl()}/api/t/northside/hold-queue`)).status()).toBe(404);
    await page.goto(`${webUrl()}/t/lakeview/hold-queue`);
    await expect(page.getByTestId("hold-queue")).not.toContainText("NORTHSIDE");
  });

  test("with the engine down the pages say so, and a TTL saved meanwhile is applied once it is back", async ({ page }) => {
    test.setTimeout(150_000);
    await signIn(page, "admin@northside.test", "demo", "/t/northside/retention");
    await control("stop");
    try {
      await page.goto(`${webUrl()}/t/northside/hold-queue`);
      await expect(page.getByTestId("engine-unreachable")).toBeVisible();
      await page.goto(`${webUrl()}/t/northside/routers`);
      await expect(page.getByTestId("engine-unreachable")).toBeVisible();
      await page.goto(`${webUrl()}/t/northside/retention`);
      await page.getByLabel(/New TTL/).fill("5");
      await page.getByRole("button", { name: "Save" }).click();
      await expect(page.getByTestId("save-result")).toContainText("Saved as version");
      await expect(page.getByTestId("apply-status")).toContainText("Pending");
    } finally {
      await control("start");
    }
    await expect(page.getByTestId("apply-status")).toContainText("Applied by the engine", { timeout: 90_000 });
    expect((await (await engine("/v1/tenants/northside")).json()).ttlDays).toBe(5);
    await page.goto(`${webUrl()}/t/northside/hold-queue`);
    await expect(page.getByTestId("hold-queue")).toBeVisible();
  });
});
