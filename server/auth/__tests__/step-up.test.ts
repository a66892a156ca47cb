import { describe, expect, it } from "vitest";
import { isRecentAuth, reauthUrl } from "../step-up";

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
});
