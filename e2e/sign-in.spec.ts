import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { encode } from "next-auth/jwt";
import { openUserMenu, signIn, submitIdpLogin, webUrl } from "./helpers";

test.describe("sign-in through OpenID Connect and tenancy in the URL", () => {
  test("a tenant admin lands on their tenant's console and sees their role", async ({ page }) => {
    await signIn(page, "admin@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    await expect(page.getByTestId("tenant-name")).toHaveText("Northside Health");
    await expect(page.getByTestId("called-ae-titles")).toContainText("NORTHSIDE");
    await expect(page.getByTestId("members")).toContainText("reviewer@northside.test");
    await openUserMenu(page);
    await expect(page.getByTestId("user-roles")).toHaveText("Tenant admin");
  });

  test("the worker has applied the tenant's config to the engine", async ({ page, request }) => {
    await signIn(page, "admin@northside.test");
    await expect(page.getByTestId("config-sync")).toHaveText(/Applied \(version 1\)/, { timeout: 30_000 });
    const res = await request.get(`${process.env.E2E_ENGINE_ADMIN_URL}/v1/tenants/northside`, {
      headers: { authorization: `Bearer ${process.env.E2E_ENGINE_ADMIN_TOKEN}` },
    });
    expect(res.status()).toBe(200);
    expect(await res.json()).toMatchObject({ ttlDays: 7, calledAeTitles: ["NORTHSIDE"], version: 1 });
  });

  test("a tenant admin opening the other tenant's URL gets 404", async ({ page }) => {
    await signIn(page, "admin@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    const res = await page.goto(webUrl() + "/t/lakeview");
    expect(res?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
    await expect(page.getByText("Lakeview Imaging")).toHaveCount(0);
  });

  test("the other tenant's admin sees only their own tenant", async ({ page }) => {
    await signIn(page, "admin@lakeview.test");
    await expect(page).toHaveURL(/\/t\/lakeview$/);
    await expect(page.getByTestId("tenant-name")).toHaveText("Lakeview Imaging");
    expect((await page.goto(webUrl() + "/t/northside"))?.status()).toBe(404);
    expect((await page.goto(webUrl() + "/ops"))?.status()).toBe(404);
  });

  test("a clinical reviewer sees the tenant without admin-only parts", async ({ page }) => {
    await signIn(page, "reviewer@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    await expect(page.getByTestId("tenant-name")).toHaveText("Northside Health");
    await expect(page.getByTestId("members")).toHaveCount(0);
    await openUserMenu(page);
    await expect(page.getByTestId("user-roles")).toHaveText("Clinical reviewer");
  });

  test("an engineer sees operations (tenant metadata) but no tenant's data", async ({ page }) => {
    await signIn(page, "engineer@vendor.test");
    await expect(page).toHaveURL(/\/ops$/);
    await expect(page.getByTestId("ops-tenants")).toContainText("Northside Health");
    await expect(page.getByTestId("ops-tenants")).toContainText("Lakeview Imaging");
    await openUserMenu(page);
    await expect(page.getByTestId("user-roles")).toContainText("Engineer");
    await page.keyboard.press("Escape");
    expect((await page.goto(webUrl() + "/t/northside"))?.status()).toBe(404);
  });

  test("signing out ends both sessions: the next sign-in asks for credentials again", async ({ page, context }) => {
    await signIn(page, "admin@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    const before = (await context.cookies()).find((c) => c.name.endsWith("authjs.session-token"));
    expect(before).toBeDefined();
    await openUserMenu(page);
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await expect(page.getByRole("heading", { name: "You are signed out" })).toBeVisible();
    await page.goto(webUrl() + "/t/northside");
    await expect(page).toHaveURL(/\/sign-in/);
    // The ended session's cookie, as a request still in flight at sign-out would have set it again, is refused.
    await context.addCookies([before!]);
    await page.goto(webUrl() + "/t/northside");
    await expect(page).toHaveURL(/\/sign-in/);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByLabel("Password")).toBeVisible();
  });

  test("a tampered session cookie sends the user to sign-in", async ({ page, context }) => {
    await signIn(page, "admin@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name.endsWith("authjs.session-token"));
    expect(session).toBeDefined();
    const v = session!.value;
    const flipped = v.slice(0, -6) + (v.slice(-6, -5) === "A" ? "B" : "A") + v.slice(-5);
    // Leave the page first: a poll answered after the swap would set a fresh valid cookie again.
    await page.goto("about:blank");
    await context.addCookies([{ ...session!, value: flipped }]);
    await page.goto(webUrl() + "/t/northside");
    await expect(page).toHaveURL(/\/sign-in/);
  });

  test("an expired (stale) session cookie sends the user to sign-in", async ({ page, context }) => {
    await signIn(page, "admin@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    const session = (await context.cookies()).find((c) => c.name.endsWith("authjs.session-token"))!;
    const secrets = JSON.parse(readFileSync(path.join(process.env.E2E_DATA_DIR!, "secrets.json"), "utf8"));
    // Correctly signed and encrypted with the real secret, but expired an hour ago.
    const now = Math.floor(Date.now() / 1000);
    const stale = await encode({
      secret: secrets.authSecret,
      salt: session.name,
      maxAge: -3600,
      token: { name: "Nora Admin", email: "admin@northside.test", uid: "00000000-0000-0000-0000-000000000001", iat: now - 7200 },
    });
    await page.goto("about:blank");
    await context.addCookies([{ ...session, value: stale }]);
    await page.goto(webUrl() + "/t/northside");
    await expect(page).toHaveURL(/\/sign-in/);
  });

  test("step-up re-authentication asks the IdP for credentials even with a live IdP session", async ({ page }) => {
    await signIn(page, "admin@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    await openUserMenu(page);
    const before = await page.getByTestId("auth-time").getAttribute("datetime");
    await page.keyboard.press("Escape");
    await page.waitForTimeout(1100); // auth_time has one-second resolution
    await page.goto(webUrl() + "/reauth?callbackUrl=%2Ft%2Fnorthside");
    await page.getByRole("button", { name: "Re-authenticate" }).click();
    await submitIdpLogin(page, "admin@northside.test");
    await expect(page).toHaveURL(/\/t\/northside$/);
    await openUserMenu(page);
    const after = await page.getByTestId("auth-time").getAttribute("datetime");
    expect(Date.parse(after!)).toBeGreaterThan(Date.parse(before!));
  });

  test("pages and APIs refuse anonymous requests", async ({ page, request }) => {
    await page.goto(webUrl() + "/t/northside");
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=%2Ft%2Fnorthside/);
    const res = await request.get(webUrl() + "/api/t/northside/anything");
    expect(res.status()).toBe(401);
  });
});
