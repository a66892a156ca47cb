import { expect, test, type Browser } from "@playwright/test";
import { openGrant, signIn, submitIdpLogin, webUrl } from "./helpers";

async function signedIn(browser: Browser, email: string, path = "/") {
  const page = await browser.newPage();
  await signIn(page, email, "demo", path);
  return page;
}

test.describe("break-glass", () => {
  test("an engineer gets in only through a grant the tenant sees live and can revoke", async ({ page, browser }) => {
    test.setTimeout(120_000);
    await signIn(page, "engineer@vendor.test");
    expect((await page.goto(`${webUrl()}/t/northside/hold-queue`))?.status()).toBe(404);

    await openGrant(page, "read_only");
    await expect(page.getByTestId("grant-banner")).toContainText("Northside Health");
    await expect(page.getByTestId("grant-banner")).toContainText("read-only");
    await expect(page.getByTestId("hold-queue")).toBeVisible();

    // The tenant admin sees it as it happens, with what the engineer opened.
    const admin = await signedIn(browser, "admin@northside.test", "/t/northside/break-glass");
    const grant = admin.getByTestId("grant").filter({ has: admin.getByTestId("grant-status").getByText("active", { exact: true }) });
    await expect(grant).toContainText("Evan Engineer");
    await expect(grant).toContainText("INC-4711");
    await grant.getByText(/Opened or changed under this grant/).click();
    await expect(grant.getByTestId("grant-access")).toContainText("break-glass.access");
    await expect(grant.getByTestId("grant-access")).toContainText("/t/northside/hold-queue");
    await admin.goto(`${webUrl()}/t/northside`);
    await expect(admin.getByTestId("vendor-access-notice")).toContainText("Evan Engineer");

    // Read-only means no controls, and a replayed mutation is refused by the server.
    await page.goto(`${webUrl()}/t/northside/retention`);
    await expect(page.getByRole("button", { name: "Save" })).toHaveCount(0);
    await admin.goto(`${webUrl()}/t/northside/audit`);
    const [sign] = await Promise.all([
      admin.waitForRequest((r) => r.method() === "POST" && !!r.headers()["next-action"]),
      admin.getByRole("button", { name: "Sign checkpoint now" }).click(),
    ]);
    await expect(admin.getByText(/Signed a checkpoint at seq \d+/)).toBeVisible();
    const replay = await page.request.post(sign.url(), {
      headers: { "next-action": sign.headers()["next-action"]!, "content-type": sign.headers()["content-type"]!, accept: "text/x-component" },
      data: sign.postDataBuffer() ?? Buffer.from(sign.postData() ?? ""),
    });
    expect(replay.status()).toBe(404);

    // Revoked: the engineer's next request is denied.
    await admin.goto(`${webUrl()}/t/northside/break-glass`);
    admin.once("dialog", (d) => void d.accept());
    await admin.getByTestId("revoke-grant").click();
    await expect(admin.getByTestId("grant").first().getByTestId("grant-status")).toHaveText("revoked");
    expect((await page.goto(`${webUrl()}/t/northside/hold-queue`))?.status()).toBe(404);
    await page.goto(`${webUrl()}/ops`);
    await expect(page.getByTestId("my-grants")).toContainText("revoked");
    await admin.close();
  });

  test("a read-write grant can act, is tagged in the audit, and ends when the engineer says so", async ({ page }) => {
    test.setTimeout(90_000);
    await signIn(page, "engineer@vendor.test");
    await openGrant(page, "read_write");
    await expect(page.getByTestId("grant-banner")).toContainText("read-write");
    await page.goto(`${webUrl()}/t/northside/audit`);
    await page.getByRole("button", { name: "Sign checkpoint now" }).click();
    await expect(page.getByText(/Signed a checkpoint at seq \d+|already signed/)).toBeVisible();
    await page.reload();
    await expect(page.getByTestId("audit-entries")).toContainText("break-glass");
    await page.getByTestId("end-grant").click();
    await expect(page).toHaveURL(/\/ops\?ended=1/);
    expect((await page.goto(`${webUrl()}/t/northside/audit`))?.status()).toBe(404);
  });

  test("an engineer cannot approve a request, and a tenant that requires approval decides", async ({ page, browser }) => {
    test.setTimeout(90_000);
    const admin = await signedIn(browser, "admin@lakeview.test", "/t/lakeview/break-glass");
    await admin.getByLabel(/Require a tenant admin/).check();
    await admin.getByRole("button", { name: "Save policy" }).click();
    await expect(admin.getByText("Saved.")).toBeVisible();

    await signIn(page, "engineer@vendor.test");
    await page.goto(`${webUrl()}/ops`);
    await page.locator("select[name=tenant]").selectOption("lakeview");
    await page.getByLabel(/Justification/).fill("Checking the lakeview hold queue backlog");
    await page.getByLabel("Ticket reference").fill("INC-5000");
    await page.getByRole("button", { name: /Continue: confirm it/ }).click();
    await page.getByRole("button", { name: "Re-authenticate" }).click();
    await submitIdpLogin(page, "engineer@vendor.test");
    await page.getByTestId("open-access").click();
    await expect(page).toHaveURL(/\/ops\?requested=pending/);
    expect((await page.goto(`${webUrl()}/t/lakeview/break-glass`))?.status()).toBe(404); // no approving from the vendor side
    expect((await page.goto(`${webUrl()}/t/lakeview/hold-queue`))?.status()).toBe(404);

    await admin.reload();
    const pending = admin.getByTestId("grant").filter({ hasText: "INC-5000" });
    await pending.getByRole("button", { name: "Approve" }).click();
    await expect(pending.getByTestId("grant-status")).toHaveText("active");
    expect((await page.goto(`${webUrl()}/t/lakeview/hold-queue`))?.status()).toBe(200);
    await page.getByTestId("end-grant").click();
    await admin.getByLabel(/Require a tenant admin/).uncheck();
    await admin.getByRole("button", { name: "Save policy" }).click();
    await admin.close();
  });
});
