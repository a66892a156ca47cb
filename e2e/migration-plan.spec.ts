// A customer's migration lead plans and runs a migration in the browser, with no admin API: two real Orthancs, the
// plan typed into the form, both connections tested (a wrong port is reported as such), a tag rule previewed on a
// real sample study, saved, edited into a second version whose change the approver reads, approved by a second
// person with an e-signature (the lead cannot approve their own), discovered, the inventory read, started, and every
// study arrives at the target.
import { execFileSync } from "node:child_process";
import { expect, test, type Browser, type Page } from "@playwright/test";
import { startOrthanc } from "../test/orthanc";
import { makeStudies } from "../test/studies";
import { signIn } from "./helpers";

const STUDIES = 4;
const fill = (page: Page, field: string, value: string) => page.locator(`[data-field="${field}"]`).fill(value);
async function signedIn(browser: Browser, email: string, to: string) {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, email, "demo", to);
  return page;
}

test.describe("migration plan", () => {
  test("a migration lead creates, tests, previews, edits; a second person approves; it is discovered, started and completes", async ({ page, browser }) => {
    test.setTimeout(300_000);
    const [source, target] = await Promise.all([startOrthanc({ aeTitle: "LEADSRC" }), startOrthanc({ aeTitle: "LEADDST" })]);
    try {
      const made = makeStudies(STUDIES, ["2022-03-01", "2023-07-01"], ["CT", "MR"]);
      for (const s of made) await source.upload(s.file);
      await signIn(page, "lead@northside.test", "demo", "/t/northside/migrations/new");
      await expect(page.getByRole("heading", { name: "New migration" })).toBeVisible();

      await fill(page, "name", "Lead's Orthanc migration");
      await fill(page, "sources.0.id", "legacy");
      await fill(page, "sources.0.aeTitle", "LEADSRC");
      await fill(page, "sources.0.host", "127.0.0.1");
      // A wrong port first: the test says what is wrong in words an administrator can act on.
      await fill(page, "sources.0.port", String(target.port + 1000));
      const sourceTest = page.getByTestId("connection-sources.0");
      await sourceTest.getByRole("button", { name: "Test connection" }).click();
      await expect(sourceTest.getByTestId("connection-result")).toContainText("Connection refused");
      await expect(sourceTest.getByTestId("connection-result")).toContainText("Check the port number");
      await fill(page, "sources.0.port", String(source.port));
      await sourceTest.getByRole("button", { name: "Test connection" }).click();
      await expect(sourceTest.getByTestId("connection-result")).toHaveAttribute("data-ok", "true");

      await fill(page, "target.aeTitle", "LEADDST");
      await fill(page, "target.host", "127.0.0.1");
      await fill(page, "target.port", String(target.port));
      const targetTest = page.getByTestId("connection-target");
      await targetTest.getByRole("button", { name: "Test connection" }).click();
      await expect(targetTest.getByTestId("connection-result")).toHaveAttribute("data-ok", "true");

      await fill(page, "filters.studyDateFrom", "2022-01-01");
      await fill(page, "filters.studyDateTo", "2023-12-31");

      await page.getByRole("button", { name: "Add tag rule" }).click();
      await fill(page, "rules.0.tag", "00081030");
      await fill(page, "rules.0.value", "MIGRATED BY LEAD");
      await page.getByRole("button", { name: "Preview on a sample study" }).click();
      const changed = page.getByTestId("preview-instance").first().locator('tr[data-changed="true"]');
      await expect(changed).toHaveCount(1, { timeout: 60_000 });
      await expect(changed).toContainText("MIGRATED BY LEAD");

      // A refused save keeps what was typed: a bad cap is named next to its field, the rest stays.
      await fill(page, "overallCap", "-1");
      await page.getByRole("button", { name: "Save plan" }).click();
      await expect(page.locator('[data-error-for="overallCap"]')).toContainText("positive number of MB/s");
      await expect(page.locator('[data-field="rules.0.value"]')).toHaveValue("MIGRATED BY LEAD");
      await fill(page, "overallCap", "");
      await page.getByRole("button", { name: "Save plan" }).click();
      await expect(page).toHaveURL(/\/t\/northside\/migrations\/[0-9a-f-]{36}$/, { timeout: 30_000 });

      const launch = page.getByTestId("launch-panel");
      const migrationUrl = page.url();
      // Nothing runs before an approval: no Discover button, and the panel says why.
      await expect(launch.getByTestId("launch-version")).toContainText("No plan version is approved yet");
      await expect(launch.getByRole("button", { name: "Discover" })).toHaveCount(0);

      // The lead changes the rule: version 2, whose change the approver reads field by field.
      await launch.getByRole("link", { name: "Edit plan" }).click();
      await expect(page.locator('[data-field="rules.0.value"]')).toHaveValue("MIGRATED BY LEAD");
      await fill(page, "rules.0.value", "MIGRATED BY LEAD V2");
      await page.getByRole("button", { name: "Save new version" }).click();
      await expect(page).toHaveURL(migrationUrl, { timeout: 30_000 });
      await page.goto(`${migrationUrl}/plan`);
      await expect(page.getByTestId("plan-version")).toHaveCount(2);
      await expect(page.locator('[data-version="2"]')).toHaveAttribute("data-state", "pending");
      await expect(page.locator('[data-version="2"] [data-path="transforms.0.value"]')).toContainText("MIGRATED BY LEAD V2");
      // Any two versions compare field by field, at an address of their own.
      const compare = page.getByTestId("compare-versions");
      await compare.getByLabel("From version").selectOption("2");
      await compare.getByLabel("To version").selectOption("1");
      await compare.getByRole("button", { name: "Compare" }).click();
      await expect(page).toHaveURL(/\/plan\?from=2&to=1$/);
      await expect(page.getByTestId("compare-versions").locator('[data-path="transforms.0.value"]')).toContainText('"MIGRATED BY LEAD V2"');
      // The author cannot approve their own version under the tenant's default policy.
      await expect(page.getByTestId("approve-unavailable")).toContainText("You wrote this version");
      await expect(page.getByTestId("approve-form")).toHaveCount(0);

      // The tenant admin approves with an e-signature (a fresh sign-in).
      const admin = await signedIn(browser, "admin@northside.test", new URL(`${migrationUrl}/plan`).pathname);
      await admin.getByRole("button", { name: "Sign and approve version 2" }).click();
      await expect(admin.getByTestId("version-in-force")).toContainText("Version 2 is in force.");
      await expect(admin.locator('[data-version="2"]')).toHaveAttribute("data-state", "in_force");
      await expect(admin.locator('[data-version="2"] [data-testid="version-approval"]')).toContainText("signature record verified");
      await expect(admin.locator('[data-version="1"]')).toHaveAttribute("data-state", "superseded");
      await admin.context().close();

      await page.goto(migrationUrl);
      await expect(launch.getByTestId("launch-version")).toContainText("Plan version 2 is in force");
      await launch.getByRole("button", { name: "Discover" }).click();
      await expect(launch.getByTestId("inventory-studies")).toHaveText(String(STUDIES), { timeout: 60_000 });
      await expect(launch.getByTestId("inventory-row")).toHaveCount(new Set(made.map((s) => `${s.modality} ${s.date.slice(0, 4)}`)).size);
      await launch.getByRole("button", { name: "Start" }).click();
      await expect(launch.getByTestId("launch-result")).toHaveText("Started.");
      await expect
        .poll(
          async () => {
            await page.reload();
            return page.getByTestId("launch-status").textContent();
          },
          { timeout: 180_000, intervals: [2000] },
        )
        .toContain("completed");
      const arrived = await target.studies();
      expect(arrived.length).toBe(STUDIES);
      // The approved version is what ran: its rule, not version 1's.
      for (const s of arrived) {
        const tags = (await fetch(`${target.http}/studies/${s}`).then((r) => r.json())) as { MainDicomTags: { StudyDescription?: string } };
        expect(tags.MainDicomTags.StudyDescription).toBe("MIGRATED BY LEAD V2");
      }
      await expect(page.getByTestId("plan-version")).toContainText("Plan version 2 in force");

      // Closeout: the admin signs off; the sign-off reconciles source and target again, it balances, and the
      // signed-off record downloads as a PDF naming the record's hash.
      const signer = await signedIn(browser, "admin@northside.test", new URL(`${migrationUrl}/record`).pathname);
      await signer.getByRole("button", { name: "Reconcile and sign off" }).click();
      await expect(signer.getByTestId("signoff-signature")).toContainText("record and signature verified", { timeout: 120_000 });
      await expect(signer.getByTestId("record-reconciliation")).toContainText(`Balanced: ${STUDIES} migrated`);
      await expect(signer.getByTestId("record-plan")).toContainText("Version 2");
      const recordHash = (await signer.getByTestId("record-hash").textContent())!.trim();
      const download = signer.waitForEvent("download");
      await signer.getByRole("link", { name: "Download the record (PDF)" }).click();
      const pdfPath = await (await download).path();
      const text = execFileSync("pdftotext", ["-layout", pdfPath, "-"]).toString();
      expect(text).toContain("balanced");
      expect(text.replace(/\s+/g, "")).toContain(recordHash);

      // A random-sample re-verification from the record page: every sampled instance matches.
      await signer.getByRole("button", { name: "Re-verify a sample" }).click();
      await expect(signer.getByTestId("sample-result")).toContainText(`All ${STUDIES} sampled instances match the record`, { timeout: 120_000 });

      // The clinical spot-check: the admin picks two studies; a reviewer opens one at the target and signs it.
      await signer.getByRole("link", { name: "Clinical spot-check" }).click();
      await signer.getByTestId("spot-check-list-form").locator('input[name="count"]').fill("2");
      await signer.getByRole("button", { name: "Pick studies at random" }).click();
      await expect(signer.getByTestId("spot-check-row")).toHaveCount(2);
      await signer.context().close();
      const reviewer = await signedIn(browser, "reviewer@northside.test", new URL(`${migrationUrl}/spot-check`).pathname);
      await reviewer.getByTestId("spot-check-row").first().getByRole("link").click();
      await expect(reviewer.getByTestId("viewer")).toHaveAttribute("data-state", "ready", { timeout: 60_000 });
      await reviewer.getByRole("button", { name: "Sign as looked at" }).click();
      await expect(reviewer.getByTestId("spot-check-signed")).toContainText("Looked at by Rita Reviewer");
      await expect(reviewer.locator('[data-testid="spot-check-row"][data-done="true"]')).toHaveCount(1);
      await reviewer.context().close();
    } finally {
      await source.stop();
      await target.stop();
    }
  });
});
