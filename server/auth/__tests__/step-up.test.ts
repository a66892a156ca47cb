import { describe, expect, it } from "vitest";
import { StepUpRequiredError } from "../../errors";
import { isRecentAuth, reauthUrl, requireFreshAuth } from "../step-up";

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


  it("refuses a verb to a stale session and lets a fresh one through", () => {
    process.env.AUTH_STEP_UP_MAX_AGE_SECONDS = "300";
    Object.assign(process.env, { AUTH_SECRET: "z".repeat(40), AUTH_URL: "http://localhost:3000", AUTH_OIDC_ISSUER: "http://localhost:4000", AUTH_OIDC_CLIENT_ID: "c", AUTH_OIDC_CLIENT_SECRET: "s" });
    expect(() => requireFreshAuth({ authTime: Math.floor(Date.now() / 1000) - 600 })).toThrow(StepUpRequiredError);
    expect(() => requireFreshAuth({ authTime: Math.floor(Date.now() / 1000) - 10 })).not.toThrow();
  });
});
