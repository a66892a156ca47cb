// Quarantine clinical review end to end: studies quarantined by the real engine (a hash mismatch injected at the
// target, a character set that does not exist), the queue, a claim, the viewer drawing the images, the differing
// elements, a repair signed after re-authenticating at the IdP (a stale sign-in is refused first), the engine
// re-running the study until it verifies, and the signature in the audit chain; skip and escalate, the senior
// reviewer, another tenant's reviewer (404) and a tenant admin calling the decision action directly (refused).
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { signIn, submitIdpLogin, webUrl } from "./helpers";
import { flipAtTarget, importFolder, makeCtStudy, migrateFolder, quarantineItems, sopOf, studyOf } from "./quarantine-fixture";

const STEP_UP_SECONDS = 40; // e2e/global-setup.ts
const base = "/t/northside/quarantine";

/** The viewer's canvas, read back: how much of it is drawn and how many grey levels it shows. */
async function canvasStats(page: Page) {
  return page.getByTestId("viewer-canvas").locator("canvas").first().evaluate((c: HTMLCanvasElement) => {
    const ctx = c.getContext("2d");
    if (!ctx) return { drawn: 0, levels: 0 };
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let drawn = 0;
    const levels = new Set<number>();
    for (let i = 0; i < d.length; i += 4) {
      if (d[i]! + d[i + 1]! + d[i + 2]! > 0) drawn++;
      levels.add(d[i]!);
    }
    return { drawn: drawn / (d.length / 4), levels: levels.size };
  });
}

async function signedIn(browser: Browser, email: string, to = base) {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email, "demo", to);
  return { page, at: Date.now() };
}

test.describe.configure({ mode: "serial" });

test.describe("quarantine review", () => {
  let items: { repair: string; skip: string; escalate: string };
  let migration: Awaited<ReturnType<typeof migrateFolder>>;
  let repairSop: string;

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    const dir = importFolder("northside", "acceptance");
    const stack = makeCtStudy(path.join(dir, "a"), 6, { patientId: "E2E-STACK" });
    const single = makeCtStudy(path.join(dir, "b"), 1, { patientId: "E2E-SINGLE" });
    const charset = makeCtStudy(path.join(dir, "c"), 1, { patientId: "E2E-CHARSET", extra: ["-i", "(0008,0005)=ISO_IR 999"] });
    repairSop = sopOf(stack[2]!);
    flipAtTarget([repairSop, sopOf(single[0]!)]);
    migration = await migrateFolder("northside", "acceptance");
    const found = await quarantineItems("northside", migration.id);
    const by = (f: string) => found.find((i) => i.studyInstanceUid === studyOf(f))!.id;
    items = { repair: by(stack[0]!), skip: by(single[0]!), escalate: by(charset[0]!) };
    expect(found.map((i) => i.category).sort()).toEqual(["character_set", "hash_mismatch", "hash_mismatch"]);
  });
  test.afterAll(async () => migration?.target.stop());

  test("a reviewer claims, sees the images and the differing elements, repairs after re-authenticating, and the engine migrates it", async ({ browser }) => {
    test.setTimeout(240_000);
    const { page, at: signedInAt } = await signedIn(browser, "reviewer@northside.test");
    const row = page.locator(`[data-testid=queue-row][data-item="${items.repair}"]`);
    await expect(row).toContainText("Hash mismatch");
    await expect(page.getByTestId("category-counts")).toContainText("Hash mismatch (2)");
    await row.getByRole("button", { name: "Claim" }).click();
    await expect(row.getByTestId("queue-status")).toHaveText("claimed");
    await expect(row).toContainText("Rita Reviewer");

    await row.getByRole("link", { name: "Review" }).click();
    await expect(page.getByTestId("claim")).toContainText("Claimed by Rita Reviewer");
    // The viewer draws the stack (not a blank canvas) and scrolls it.
    await expect(page.getByTestId("viewer")).toHaveAttribute("data-state", "ready", { timeout: 30_000 });
    await expect(page.getByTestId("viewer-position")).toHaveText("1 / 6");
    // The page's HTML already shows the first image, before any script: a PNG preview rendered by the engine,
    // through the console's authorized route; the viewer has replaced it once it drew.
    await expect(page.getByTestId("viewer-preview")).toHaveCount(0);
    const html = await (await page.request.get(page.url())).text();
    const previewSrc = /<img[^>]*\ssrc="([^"]+\/preview)"[^>]*data-testid="viewer-preview"/.exec(html)?.[1];
    expect(previewSrc, "a server-rendered preview img").toBeTruthy();
    const preview = await page.request.get(new URL(previewSrc!, page.url()).toString());
    expect(preview.status()).toBe(200);
    expect(preview.headers()["content-type"]).toBe("image/png");
    const png = await preview.body();
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect([png.readUInt32BE(16), png.readUInt32BE(20)].every((n) => n > 0)).toBe(true);
    const stats = await canvasStats(page);
    expect(stats.drawn, JSON.stringify(stats)).toBeGreaterThan(0.2);
    expect(stats.levels).toBeGreaterThan(20);
    // The same screenshot with the canvas hidden is what a blank viewer would show.
    const canvas = page.getByTestId("viewer-canvas");
    const shot = await canvas.screenshot();
    await canvas.locator("canvas").first().evaluate((c) => (c.style.visibility = "hidden"));
    const blank = await canvas.screenshot();
    await canvas.locator("canvas").first().evaluate((c) => (c.style.visibility = ""));
    expect(shot.equals(blank)).toBe(false);
    await page.keyboard.press("ArrowDown");
    await expect(page.getByTestId("viewer-position")).toHaveText("2 / 6");
    await page.keyboard.press("2");
    await expect(page.getByTestId("viewer-voi")).toHaveText("W 1500 L -600");
    await expect(page.getByTestId("viewer-problem")).toHaveCount(0);
    // Header panel and the difference between the source's and the target's copy.
    await expect(page.getByTestId("hashes")).toContainText(repairSop);
    await expect(page.getByTestId("diff")).toContainText("PixelData");
    await page.getByLabel("Search the header").fill("PatientID");
    await expect(page.getByTestId("header-panel").locator("tr[data-path='00100020']")).toContainText("E2E-STACK");

    // Repair (key r, once focus leaves the search field): the patch is validated (VR-aware) and previewed.
    await page.getByRole("heading", { name: "Quarantined study" }).click();
    await page.keyboard.press("r");
    const dialog = page.getByRole("dialog", { name: "repair decision" });
    await dialog.getByLabel("Tag 1").fill("(0008,0020)");
    await dialog.getByLabel("Value 1").fill("2024-03-01");
    await dialog.getByRole("button", { name: "Preview" }).click();
    await expect(dialog).toContainText("StudyDate (DA): a date as YYYYMMDD");
    await dialog.getByLabel("Tag 1").fill("(0008,1030)");
    await dialog.getByLabel("Value 1").fill("Repaired after review");
    await dialog.getByRole("button", { name: "Preview" }).click();
    await expect(dialog.getByTestId("patch-preview")).toContainText("StudyDescription");
    await expect(dialog.getByTestId("patch-preview")).toContainText("Repaired after review");
    await dialog.getByLabel("Reason").fill("pixel data damaged on the way to the target; resend with a note");
    await expect(dialog.getByLabel("Meaning of your signature")).toHaveValue("I approve this repair");

    // A sign-in older than the step-up window: the signature is refused.
    const wait = signedInAt + (STEP_UP_SECONDS + 2) * 1000 - Date.now();
    if (wait > 0) await page.waitForTimeout(wait);
    const signButton = dialog.getByRole("button", { name: "Sign and submit" });
    if (await signButton.isVisible()) {
      await signButton.click();
      await expect(dialog.getByTestId("decision-result")).toContainText("Re-authenticate");
      await dialog.getByTestId("decision-result").getByRole("link", { name: "Re-authenticate" }).click();
    } else {
      await dialog.getByRole("link", { name: "Re-authenticate to sign" }).click();
    }
    // Step-up at the IdP; back on the review with the draft restored.
    await expect(page).toHaveURL(/\/reauth\?/);
    await page.getByRole("button", { name: "Re-authenticate" }).click();
    await submitIdpLogin(page, "reviewer@northside.test");
    await expect(page).toHaveURL(new RegExp(`${base}/${items.repair.replaceAll(".", "\\.")}$`));
    const again = page.getByRole("dialog", { name: "repair decision" });
    await expect(again.getByLabel("Value 1")).toHaveValue("Repaired after review");
    await again.getByRole("button", { name: "Sign and submit" }).click();
    await expect(again.getByTestId("decision-result")).toContainText("Signed by Rita Reviewer");

    // The engine re-runs the study with the patch; it verifies and resolves as migrated.
    await expect.poll(async () => (await quarantineItems("northside", migration.id, "resolved")).map((i) => i.id), { timeout: 90_000, intervals: [1000] }).toEqual([items.repair]);
    expect((await migration.counts()).migrated).toBe(1);
    await page.reload();
    await expect(page.getByTestId("item-summary")).toContainText("resolved");
    await expect(page.getByTestId("signatures")).toContainText("Rita Reviewer");
    await expect(page.getByTestId("signatures")).toContainText("I approve this repair");

    // The audit chain holds the signature: name, time, meaning (read by the tenant admin's export).
    const admin = await signedIn(browser, "admin@northside.test", "/t/northside/audit");
    const lines = (await (await admin.page.request.get(`${webUrl()}/api/t/northside/audit/export?format=jsonl`)).text()).trim().split("\n").map((l) => JSON.parse(l));
    const entry = lines.map((l) => l.entry).find((e) => e?.action === "quarantine.repair" && e.target === `quarantine:${items.repair}`);
    expect(entry?.after?.signature).toMatchObject({ signerName: "Rita Reviewer", meaning: "I approve this repair", signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  test("skip and escalate are signed; senior reviewers see and decide escalations; others are refused", async ({ browser }) => {
    test.setTimeout(180_000);
    const { page } = await signedIn(browser, "reviewer@northside.test", `${base}/${items.skip}`);
    await expect(page.getByTestId("viewer")).toHaveAttribute("data-state", "ready", { timeout: 30_000 }); // hydrated
    await page.keyboard.press("s");
    const skip = page.getByRole("dialog", { name: "skip decision" });
    await skip.getByLabel("Reason").fill("a duplicate of a study already in the target");
    await expect(skip.getByLabel("Meaning of your signature")).toHaveValue("I confirm this study is excluded");
    await skip.getByRole("button", { name: "Sign and submit" }).click();
    await expect(skip.getByTestId("decision-result")).toContainText("Signed by Rita Reviewer");

    await page.goto(`${webUrl()}${base}/${items.escalate}`);
    await expect(page.getByTestId("header-panel").locator("tr[data-path='00080005']")).toContainText("not a DICOM character set");
    await expect(page.getByTestId("viewer")).toHaveAttribute("data-state", "ready", { timeout: 30_000 });
    await page.keyboard.press("e");
    const esc = page.getByRole("dialog", { name: "escalate decision" });
    await esc.getByLabel("Note for the senior reviewer").fill("ISO_IR 999 is not a character set; which one did the modality mean?");
    await esc.getByRole("button", { name: "Sign and submit" }).click();
    await expect(esc.getByTestId("decision-result")).toContainText("Signed by Rita Reviewer");
    await page.reload();
    await expect(page.getByText("Escalated: a senior reviewer decides this study.")).toBeVisible();
    await expect(page.getByRole("button", { name: "Repair… (r)" })).toHaveCount(0);

    const senior = await signedIn(browser, "senior@northside.test", `${base}?state=escalated`);
    const row = senior.page.locator(`[data-testid=queue-row][data-item="${items.escalate}"]`);
    await expect(row.getByTestId("queue-status")).toHaveText("escalated");
    await row.getByRole("link", { name: "Review" }).click();
    await expect(senior.page.getByRole("button", { name: "Repair… (r)" })).toBeVisible();
    await expect(senior.page.getByTestId("signatures")).toContainText("I refer this study to a senior reviewer");
    expect((await quarantineItems("northside", migration.id, "skipped")).map((i) => i.id)).toEqual([items.skip]);

    // Another tenant's reviewer: 404 for the page and the instance bytes.
    const other = await signedIn(browser, "reviewer@lakeview.test", "/t/lakeview/quarantine");
    expect((await other.page.goto(`${webUrl()}${base}/${items.escalate}`))?.status()).toBe(404);
    const evidence = (await (await fetch(`${process.env.E2E_ENGINE_ADMIN_URL}/v1/tenants/northside/quarantine/${items.escalate}`, { headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}` } })).json()) as { instances: { id: string }[] };
    expect((await other.page.request.get(`${webUrl()}/api/t/northside/quarantine/${items.escalate}/instances/${evidence.instances[0]!.id}`)).status()).toBe(404);
    expect((await senior.page.request.get(`${webUrl()}/api/t/northside/quarantine/${items.escalate}/instances/${evidence.instances[0]!.id}`)).status()).toBe(200);

    // A tenant admin reads the review but cannot decide, not even by calling the server action directly.
    const admin = await signedIn(browser, "admin@northside.test", `${base}/${items.escalate}`);
    await expect(admin.page.getByTestId("item-summary")).toContainText("Character set");
    await expect(admin.page.getByRole("button", { name: "Repair… (r)" })).toHaveCount(0);
    const manifest = JSON.parse(readFileSync(path.join(import.meta.dirname, "../.next/server/server-reference-manifest.json"), "utf8")).node as Record<string, { exportedName: string; filename: string }>;
    const actionId = Object.entries(manifest).find(([, a]) => a.filename === "server/quarantine/actions.ts" && a.exportedName === "decideItemAction")![0];
    const replay = await admin.page.request.post(`${webUrl()}${base}/${items.escalate}`, {
      headers: { "next-action": actionId, "content-type": "text/plain;charset=UTF-8", accept: "text/x-component" },
      data: JSON.stringify(["northside", items.escalate, null, { decision: "skip", reason: "admin tries", meaning: "I confirm this study is excluded" }]),
      maxRedirects: 0,
    });
    expect(replay.status()).toBe(404);
    expect((await quarantineItems("northside", migration.id, "escalated")).map((i) => i.id)).toEqual([items.escalate]);
  });

  test("bulk: studies of one pattern are selected together and signed in one ceremony, a signature each", async ({ browser }) => {
    test.setTimeout(180_000);
    const dir = importFolder("northside", "bulk");
    const studies = [0, 1].map((i) => makeCtStudy(path.join(dir, `s${i}`), 1, { patientId: `E2E-BULK-${i}` }));
    flipAtTarget(studies.map((s) => sopOf(s[0]!)));
    const bulk = await migrateFolder("northside", "bulk");
    const ids = (await quarantineItems("northside", bulk.id)).map((i) => i.id);
    expect(ids).toHaveLength(2);
    const { page } = await signedIn(browser, "reviewer@northside.test", `${base}?category=hash_mismatch`);
    await expect(page.getByTestId("quarantine-queue")).toHaveAttribute("data-ready", "true");
    for (const id of ids) await page.getByRole("checkbox", { name: `Select ${id}` }).check();
    const form = page.getByRole("form", { name: "Decide selected studies" });
    await form.getByPlaceholder("Reason").fill("transit damage; the site re-sends these studies itself");
    await form.getByRole("button", { name: "Sign 2 decisions" }).click();
    await expect(form.getByRole("status")).toContainText("Signed 2 decision(s) in one ceremony");
    expect((await quarantineItems("northside", bulk.id, "skipped")).map((i) => i.id).sort()).toEqual([...ids].sort());
    for (const id of ids) {
      await page.goto(`${webUrl()}${base}/${id}`);
      await expect(page.getByTestId("signatures")).toContainText("I confirm this study is excluded");
    }
    await bulk.target.stop();
  });
});
