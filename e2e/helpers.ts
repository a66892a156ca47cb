import { expect, type Page } from "@playwright/test";

export const webUrl = () => {
  const u = process.env.E2E_WEB_URL;
  if (!u) throw new Error("E2E_WEB_URL is not set: the global setup did not start the stack");
  return u;
};

/** Signs in through the console's sign-in page and the real OIDC provider's login form. */
export async function signIn(page: Page, email: string, password = "demo", path = "/") {
  await page.goto(webUrl() + path);
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
  await page.getByRole("button", { name: "User menu" }).click();
}
