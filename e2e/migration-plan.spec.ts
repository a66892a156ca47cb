// A customer's migration lead plans and runs a migration in the browser, with no admin API: two real Orthancs, the
// plan typed into the form, both connections tested (a wrong port is reported as such), a tag rule previewed on a
// real sample study, saved, discovered, the inventory read, started, and every study arrives at the target.
import { expect, test, type Page } from "@playwright/test";
import { startOrthanc } from "../test/orthanc";
import { makeStudies } from "../test/studies";
import { signIn } from "./helpers";

const STUDIES = 4;
const fill = (page: Page, field: string, value: string) => page.locator(`[data-field="${field}"]`).fill(value);

test.describe("migration plan", () => {
  test("a migration lead creates, tests, previews, discovers and starts a migration; it completes", async ({ page }) => {
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

      // TODO(approval): approve the plan version through the approval UI once plan versions and approval exist.
      const launch = page.getByTestId("launch-panel");
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
      expect((await target.studies()).length).toBe(STUDIES);
    } finally {
      await source.stop();
      await target.stop();
    }
  });
});
