import { expect, type Page } from "@playwright/test";

export const webUrl = () => {
  const u = process.env.E2E_WEB_URL;
  if (!u) throw new Error("E2E_WEB_URL is not set: the global setup did not start the stack");
  return u;
};

/** Signs in through the console's sign-in page and the real OIDC provider's login form (of the e2e stack, or `base`'s). */
export async function signIn(page: Page, email: string, password = "demo", path = "/", base = webUrl()) {
  await page.goto(base + path);
  await expect(page).toHaveURL(/\/sign-in/);
  await page.getByRole("button", { name: "Sign in" }).click();
  await submitIdpLogin(page, email, password);
}

export async function submitIdpLogin(page: Page, email: string, password = "demo") {
  await expect(page.getByLabel("Email")).toBeVisible();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function openUserMenu(page: Page) {
  // A click that lands before hydration opens nothing: click again until the menu shows.
  const menu = page.getByRole("menu");
  await expect(async () => {
    if (!(await menu.isVisible())) await page.getByRole("button", { name: "User menu" }).click();
    await expect(menu).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 20_000 });
}

/** The engineer's whole request: the form, the step-up sign-in at the IdP, the confirmation. */
export async function openGrant(page: Page, scope: "read_only" | "read_write", tenant = "northside") {
  await page.goto(`${webUrl()}/ops`);
  await page.locator("select[name=tenant]").selectOption(tenant);
  await page.getByLabel(/Justification/).fill("Router at site 2 stopped pulling results since 02:00");
  await page.getByLabel("Ticket reference").fill("INC-4711");
  await page.getByLabel(scope === "read_only" ? "Read-only" : "Read-write").check();
  await page.getByRole("button", { name: /Continue: confirm it/ }).click();
  // Step-up: the console sends the engineer back to the IdP, which asks for credentials again.
  await expect(page).toHaveURL(/\/reauth\?/);
  await page.getByRole("button", { name: "Re-authenticate" }).click();
  await submitIdpLogin(page, "engineer@vendor.test");
  await expect(page.getByTestId("confirm-tenant")).toHaveText(tenant);
  await page.getByTestId("open-access").click();
  await expect(page).toHaveURL(new RegExp(`/t/${tenant}/hold-queue$`));
}

