import { expect, test } from "@playwright/test";
import { verifyLines } from "../server/audit/verifier";
import { signIn, webUrl } from "./helpers";

test.describe("the audit log", () => {
  test("a tenant admin filters, opens an entry, verifies, signs a checkpoint and exports a chain that verifies offline", async ({ page }) => {
    await signIn(page, "admin@northside.test");
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect(page).toHaveURL(/\/t\/northside\/audit$/);
    const table = page.getByTestId("audit-entries");
    await expect(table).toContainText("tenant.create");

    // Filter by action; an invalid time is explained, not an error page.
    await page.getByLabel("Action").fill("tenant.create");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/action=tenant.create/);
    await expect(table.locator("tbody tr")).toHaveCount(1);
    await page.goto(webUrl() + "/t/northside/audit?from=not-a-date");
    await expect(page.getByTestId("filter-errors")).toContainText("From is not a date and time");

    // Entry detail with its before/after.
    await page.goto(webUrl() + "/t/northside/audit");
    await table.getByRole("link", { name: "1", exact: true }).click();
    await expect(page.getByRole("heading", { name: /Entry 1: tenant.create/ })).toBeVisible();
    await expect(page.getByTestId("entry-diff")).toContainText("slug");
    await page.getByRole("link", { name: "← Audit log" }).click();

    await page.getByRole("button", { name: "Sign checkpoint now" }).click();
    await expect(page.getByText(/Signed a checkpoint at seq \d+/)).toBeVisible();
    await page.getByRole("button", { name: "Verify chain" }).click();
    await expect(page.getByTestId("verify-result")).toContainText(/Verified: \d+ entries/);

    // The export, with the public key shown on the screen as the trusted key.
    const publicKey = (await page.getByTestId("signing-public-key").textContent())!.trim();
    const href = await page.getByTestId("export-jsonl").getAttribute("href");
    const res = await page.request.get(webUrl() + href);
    expect(res.status()).toBe(200);
    expect(res.headers()["content-disposition"]).toMatch(/attachment; filename="audit-northside-.*\.jsonl"/);
    const report = verifyLines((await res.text()).trimEnd().split("\n"), { trustedKeys: [publicKey] });
    expect(report).toMatchObject({ ok: true, complete: true });
    expect(report.checkpoints).toBeGreaterThanOrEqual(1);
    const csv = await page.request.get(webUrl() + (await page.getByTestId("export-csv").getAttribute("href")));
    expect(await csv.text()).toMatch(/^record,chain,seq,at,/);
    expect((await page.request.get(webUrl() + "/api/t/northside/audit/export?format=xml")).status()).toBe(400);

    // The engine's events reach the tenant's chain through the worker (config applied at start-up).
    await expect
      .poll(async () => (await page.request.get(webUrl() + "/api/t/northside/audit/export?source=engine&action=config.applied")).text(), { timeout: 30_000 })
      .toContain('"source":"engine"');
  });

  test("a clinical reviewer cannot read the chain, and the global chain is engineers only", async ({ page }) => {
    await signIn(page, "reviewer@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    await expect(page.getByRole("link", { name: "Audit log" })).toHaveCount(0);
    await page.goto(webUrl() + "/t/northside/audit");
    await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
    expect((await page.request.get(webUrl() + "/api/t/northside/audit/export")).status()).toBe(404);
    expect((await page.request.get(webUrl() + "/api/ops/audit/export")).status()).toBe(404);
    expect((await page.goto(webUrl() + "/ops/audit"))?.status()).toBe(404);
  });

  test("another tenant's admin reads only their own chain", async ({ page }) => {
    await signIn(page, "admin@lakeview.test");
    await expect(page).toHaveURL(/\/t\/lakeview$/);
    expect((await page.request.get(webUrl() + "/api/t/northside/audit/export")).status()).toBe(404);
    await page.goto(webUrl() + "/t/lakeview/audit");
    await expect(page.getByTestId("audit-entries")).toContainText("tenant.create");
    await expect(page.getByTestId("audit-entries")).not.toContainText("northside");
  });

  test("an engineer reads and verifies the global chain of sign-ins and operator events", async ({ page }) => {
    await signIn(page, "engineer@vendor.test");
    await page.getByRole("link", { name: "Global audit" }).click();
    await expect(page.getByTestId("audit-entries")).toContainText("auth.sign_in");
    await page.getByRole("button", { name: "Verify chain" }).click();
    await expect(page.getByTestId("verify-result")).toContainText("Verified");
    expect((await page.goto(webUrl() + "/t/northside/audit"))?.status()).toBe(404);
  });
});
