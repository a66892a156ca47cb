import { describe, expect, it } from "vitest";
import { isRecentAuth, reauthUrl, requireRecentAuth } from "../step-up";

describe("step-up", () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  it("accepts a sign-in within the window and refuses an older or missing one", () => {
    expect(isRecentAuth(now / 1000 - 60, 300, now)).toBe(true);
    expect(isRecentAuth(now / 1000 - 301, 300, now)).toBe(false);
    expect(isRecentAuth(undefined, 300, now)).toBe(false);
    expect(isRecentAuth(0, 300, now)).toBe(false);
  });
  it("sends the person back where they were after re-authenticating", () => {
    expect(reauthUrl("/t/northside/break-glass?x=1")).toBe("/reauth?callbackUrl=%2Ft%2Fnorthside%2Fbreak-glass%3Fx%3D1");
  });

  it("redirects a stale session to re-authentication and lets a fresh one through", () => {
    const user = { id: "u", name: "n", email: "e", isEngineer: false, authTime: Math.floor(Date.now() / 1000) - 600 };
    let thrown: unknown;
    try {
      requireRecentAuth(user, "/t/x", 300);
    } catch (e) {
      thrown = e;
    }
    expect(String((thrown as { digest?: string })?.digest)).toContain("/reauth?callbackUrl=%2Ft%2Fx");
    expect(() => requireRecentAuth({ ...user, authTime: Math.floor(Date.now() / 1000) - 10 }, "/t/x", 300)).not.toThrow();
  });
});
