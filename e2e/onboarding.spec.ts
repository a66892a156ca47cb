// Onboarding from an empty external database (the production path: no demo seed), on a stack of its own started
// with the real `npm start`: an engineer creates a tenant in /ops with a called AE title and invites its admin;
// the admin signs in, invites a reviewer and sets the TTL; a vendor's storescu to the new AE title lands in the new
// tenant's hold queue; the reviewer, once removed, is refused on the next request. The engineer then suspends
// Harbor: the next storescu is rejected at association, what is held stays with its expiry; reactivated, it routes.
import { execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test, type Browser } from "@playwright/test";
import { freePort } from "../scripts/lib/ports";
import { bootstrapDatabases, startEmbeddedPostgres, type EmbeddedServer } from "../scripts/lib/postgres";
import { PYDICOM_TEST_FILES } from "../test/dcmtk";
import { signIn } from "./helpers";
import { interrupt, npmStartEnv, stackProcesses, start } from "./npm-start";

const mark = `onboarding-test-${randomUUID()}`;
// This spec's own stack: set once it is up.
const stack = { web: "", engineUrl: "", engineToken: "", dicomPort: "" };
const webUrl = () => stack.web;
const engine = (p: string) => fetch(`${stack.engineUrl}${p}`, { headers: { authorization: `Bearer ${stack.engineToken}` } });

async function signedIn(browser: Browser, email: string, to: string) {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email, "demo", to, stack.web);
  return page;
}

/** A CT_small copy with a fresh SOP instance UID. */
function freshCt() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "onboard-"));
  const f = path.join(dir, "ct.dcm");
  copyFileSync(path.join(PYDICOM_TEST_FILES, "CT_small.dcm"), f);
  execFileSync("dcmodify", ["-nb", "-gin", f]);
  return f;
}

/** storescu to the AE title; false while the engine does not route it yet (the association is rejected). */
function vendorSends(calledAe: string) {
  const f = freshCt();
  try {
    execFileSync("storescu", ["-aet", "AI_VENDOR", "-aec", calledAe, "localhost", stack.dicomPort, f], { stdio: "ignore" });
  } catch {
    return null;
  }
  return /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", f]).toString())![1]!;
}

let running: ChildProcess | undefined;
let pg: EmbeddedServer | undefined;
let dataDir: string | undefined;
test.afterAll(async () => {
  if (running?.exitCode === null) await interrupt(running, mark).catch(() => {});
  for (const p of stackProcesses(mark)) process.kill(Number(p.split(" ")[0]), "SIGKILL");
  await pg?.stop().catch(() => {});
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test("from an empty database: an engineer creates a tenant and invites its admin, who invites a reviewer; the new AE title routes", async ({ browser }) => {
  test.setTimeout(10 * 60_000);
  // An external PostgreSQL as the README's production path has it: empty databases and roles, no demo data.
  dataDir = mkdtempSync(path.join(os.tmpdir(), "onboarding-test-"));
  pg = await startEmbeddedPostgres({ dir: path.join(dataDir, "external-pg"), port: await freePort(), persistent: false });
  const urls = await bootstrapDatabases(pg.adminUrl, { prefix: "ext", passwords: { consoleOwner: randomUUID(), consoleApp: randomUUID(), engine: randomUUID() } });
  const { ports, env } = await npmStartEnv(path.join(dataDir, "stack"), mark);
  // Offboarding can be confirmed at once here (24 hours by default).
  Object.assign(env, { DATABASE_URL: urls.consoleAppUrl, DATABASE_OWNER_URL: urls.consoleOwnerUrl, ENGINE_DATABASE_URL: urls.engineUrl, OFFBOARDING_WAIT_HOURS: "0" });
  running = (await start(env)).child;
  const devEnv = Object.fromEntries([...readFileSync(path.join(dataDir, "stack", "dev.env"), "utf8").matchAll(/^export (\w+)='(.*)'$/gm)].map((m) => [m[1]!, m[2]!]));
  Object.assign(stack, { web: `http://localhost:${ports.WEB_PORT}`, engineUrl: devEnv.ENGINE_ADMIN_URL, engineToken: devEnv.ENGINE_ADMIN_TOKEN, dicomPort: String(ports.ENGINE_DICOM_PORT) });

  const ops = await signedIn(browser, "engineer@vendor.test", "/ops");
  // Nothing but what this engineer creates: no tenant yet.
  await expect(ops.getByTestId("ops-tenant")).toHaveCount(0);
  const form = ops.getByTestId("create-tenant-form");
  // A bad slug is refused next to its field; what was typed stays.
  await form.locator('[data-field="name"]').fill("Harbor Clinic");
  await form.locator('[data-field="slug"]').fill("Harbor Clinic");
  await form.locator('[data-field="calledAeTitles"]').fill("HARBOR");
  await form.locator('[data-field="adminEmail"]').fill("admin@harbor.test");
  await form.getByRole("button", { name: "Create tenant" }).click();
  await expect(form.locator('[data-error-for="slug"]')).toBeVisible();
  await expect(form.locator('[data-field="adminEmail"]')).toHaveValue("admin@harbor.test");
  await form.locator('[data-field="slug"]').fill("harbor");
  await form.getByRole("button", { name: "Create tenant" }).click();
  await expect(ops.getByTestId("create-tenant-result")).toContainText("Created Harbor Clinic (harbor)");
  await expect(ops.getByTestId("ops-tenants")).toContainText("harbor");
  await ops.context().close();

  // The invited admin signs in and lands in the new tenant; the engine gets its config.
  const admin = await signedIn(browser, "admin@harbor.test", "/t/harbor");
  await expect
    .poll(async () => (await admin.goto(`${webUrl()}/t/harbor`), admin.getByTestId("config-sync").textContent()), { timeout: 60_000, intervals: [1000] })
    .toMatch(/Applied \(version 1\)/);
  await admin.goto(`${webUrl()}/t/harbor/members`);
  const invite = admin.getByTestId("invite-form");
  await invite.locator('input[name="email"]').fill("reviewer@harbor.test");
  await invite.getByRole("button", { name: "Invite" }).click();
  await expect(admin.getByTestId("invite-result")).toContainText("Invited reviewer@harbor.test as clinical_reviewer");
  await expect(admin.locator('[data-testid="member"][data-email="reviewer@harbor.test"]')).toContainText("invited by Hana Harbor");

  // The TTL, then a vendor's study to the new AE title lands in Harbor's hold queue.
  await admin.goto(`${webUrl()}/t/harbor/retention`);
  await admin.getByLabel(/New TTL/).fill("5");
  await admin.getByRole("button", { name: "Save" }).click();
  await expect(admin.getByTestId("save-result")).toContainText("Saved as version 2");
  await expect(admin.getByTestId("current-ttl")).toHaveText("5 days");
  await expect(admin.getByTestId("apply-status")).toContainText("Applied by the engine", { timeout: 60_000 });
  await expect.poll(async () => (await (await engine("/v1/tenants/harbor")).json()).ttlDays, { timeout: 30_000 }).toBe(5);
  let sop: string | null = null;
  await expect.poll(() => (sop = vendorSends("HARBOR")), { timeout: 60_000, intervals: [2000] }).not.toBeNull();
  await admin.goto(`${webUrl()}/t/harbor/hold-queue`);
  await expect(admin.locator(`[data-testid=hold-queue-row][data-sop-instance-uid="${sop}"]`)).toBeVisible({ timeout: 30_000 });
  const held = (await (await engine("/v1/tenants/harbor/results?status=held,notified,pulled&limit=50")).json()).results as { id: string; expiresAt: string; receivedAt: string }[];
  expect(Date.parse(held[0]!.expiresAt) - Date.parse(held[0]!.receivedAt)).toBe(5 * 86_400_000);

  // The reviewer signs in into Harbor; removed by the admin, their next request is refused.
  const reviewer = await signedIn(browser, "reviewer@harbor.test", "/t/harbor/hold-queue");
  await expect(reviewer.getByTestId("hold-queue")).toBeVisible();
  await admin.goto(`${webUrl()}/t/harbor/members`);
  const row = admin.locator('[data-testid="member"][data-email="reviewer@harbor.test"]');
  await expect(row).toContainText("signed in");
  await row.getByRole("button", { name: "Remove…" }).click();
  await row.getByRole("button", { name: "Confirm removal" }).click();
  await expect(admin.locator('[data-testid="member"][data-email="reviewer@harbor.test"]')).toHaveCount(0, { timeout: 15_000 });
  expect((await reviewer.request.get(`${webUrl()}/api/t/harbor/hold-queue`)).status()).toBe(404);
  // Anyone else (here a person with no membership at all) sees nothing of Harbor.
  const other = await signedIn(browser, "admin@northside.test", "/t/harbor");
  await expect(other.getByRole("heading", { name: /not found|404/i })).toBeVisible();

  await other.context().close();

  // The engineer suspends Harbor, with a reason and a confirm step.
  const ops2 = await signedIn(browser, "engineer@vendor.test", "/ops");
  const harborRow = ops2.locator('[data-testid="ops-tenant"][data-slug="harbor"]');
  await harborRow.getByRole("button", { name: "Suspend…" }).click();
  await harborRow.locator('input[name="reason"]').fill("Contract ended, ticket OPS-42");
  await harborRow.getByRole("button", { name: "Confirm suspension" }).click();
  await expect(harborRow.getByTestId("suspension-result")).toContainText("Suspended Harbor Clinic");
  await expect(harborRow.getByTestId("tenant-status")).toContainText("suspended since");
  await expect.poll(async () => (await (await engine("/v1/tenants/harbor")).json()).suspended?.reason, { timeout: 60_000, intervals: [1000] }).toBe("Contract ended, ticket OPS-42");

  // The vendor's next association to HARBOR is rejected, permanently, with the reason; nothing was stored.
  const refused = spawnSync("storescu", ["-aet", "AI_VENDOR", "-aec", "HARBOR", "localhost", stack.dicomPort, freshCt()], { encoding: "utf8" });
  expect(refused.status).not.toBe(0);
  expect(refused.stdout + refused.stderr).toMatch(/Association Rejected/i);
  expect(refused.stdout + refused.stderr).toMatch(/Rejected Permanent/i);
  expect(refused.stdout + refused.stderr).toMatch(/Called AE Title Not Recognized/i);
  // What was held is still there, its expiry unchanged; the tenant's people see why.
  const kept = (await (await engine("/v1/tenants/harbor/results?limit=50")).json()).results as { id: string; expiresAt: string; status: string }[];
  expect(kept.map((r) => r.id)).toEqual(held.map((r) => r.id));
  expect(kept.find((r) => r.id === held[0]!.id)).toMatchObject({ status: "held", expiresAt: held[0]!.expiresAt });
  await admin.goto(`${webUrl()}/t/harbor/hold-queue`);
  await expect(admin.getByTestId("suspension-banner")).toContainText("This tenant is suspended since");
  await expect(admin.getByTestId("suspension-banner")).toContainText("held results are kept");
  await expect(admin.locator(`[data-testid=hold-queue-row][data-sop-instance-uid="${sop}"]`)).toBeVisible();

  // Reactivated: the AE title routes again and the banner is gone.
  await harborRow.getByRole("button", { name: "Reactivate…" }).click();
  await harborRow.locator('input[name="reason"]').fill("Contract renewed");
  await harborRow.getByRole("button", { name: "Confirm reactivation" }).click();
  await expect(harborRow.getByTestId("tenant-status")).toHaveText("active");
  await expect.poll(async () => (await (await engine("/v1/tenants/harbor")).json()).suspended, { timeout: 60_000, intervals: [1000] }).toBeNull();
  expect(vendorSends("HARBOR")).not.toBeNull();
  await admin.reload();
  await expect(admin.getByTestId("hold-queue")).toBeVisible();
  await expect(admin.getByTestId("suspension-banner")).toHaveCount(0);

  // Offboarded: suspended again, requested with the slug typed (nothing deleted yet), then confirmed after a fresh
  // sign-in with "delete harbor" typed.
  await harborRow.getByRole("button", { name: "Suspend…" }).click();
  await harborRow.locator('input[name="reason"]').fill("Contract ended for good, ticket OPS-77");
  await harborRow.getByRole("button", { name: "Confirm suspension" }).click();
  await expect(harborRow.getByTestId("tenant-status")).toContainText("suspended since");
  await harborRow.getByRole("button", { name: "Offboard…" }).click();
  const request = harborRow.getByTestId("offboarding-form");
  await request.locator('input[name="confirmSlug"]').fill("harbo");
  await request.locator('input[name="reason"]').fill("Contract ended, studies returned to the site");
  await expect(request.getByRole("button", { name: "Request offboarding" })).toBeDisabled();
  await request.locator('input[name="confirmSlug"]').fill("harbor");
  await request.getByRole("button", { name: "Request offboarding" }).click();
  await expect(harborRow.getByTestId("offboarding-request")).toContainText("it can be confirmed now");
  const live = (await (await engine("/v1/tenants/harbor/results?limit=50")).json()).results as { id: string; status: string }[];
  expect(live.length).toBeGreaterThan(1);
  expect(live.every((r) => r.status === "held")).toBe(true);

  const ops3 = await signedIn(browser, "engineer@vendor.test", "/ops");
  const row3 = ops3.locator('[data-testid="ops-tenant"][data-slug="harbor"]');
  await row3.locator('input[name="confirm"]').fill("delete harbor");
  await row3.getByRole("button", { name: "Offboard and delete" }).click();
  await expect(row3.getByTestId("tenant-status")).toContainText("offboarded", { timeout: 60_000 });
  await expect(row3.getByTestId("offboarded-summary")).toContainText(`${live.length} held result(s) purged`);
  const after = (await (await engine("/v1/tenants/harbor/results?limit=50")).json()).results as { id: string; status: string }[];
  expect(after.map((r) => [r.id, r.status]).sort()).toEqual(live.map((r) => [r.id, "purged"]).sort());
  expect(vendorSends("HARBOR")).toBeNull();
  // Its people are gone; its audit log is kept and the engineer exports it.
  await admin.goto(`${webUrl()}/t/harbor/hold-queue`);
  await expect(admin.getByRole("heading", { name: /not found|404/i })).toBeVisible();
  const exported = await ops3.request.get(`${webUrl()}/api/ops/tenants/harbor/audit/export`);
  expect(exported.status()).toBe(200);
  const actions = (await exported.text()).trim().split("\n").map((l) => (JSON.parse(l) as { entry?: { action: string } }).entry?.action);
  expect(actions).toEqual(expect.arrayContaining(["tenant.create", "tenant.suspend", "tenant.offboard_request", "tenant.offboard"]));
});
