import { describe, expect, it } from "vitest";
import { ByteRate } from "../bandwidth";

describe("bandwidth cap", () => {
  it("keeps the average at the cap over a simulated minute of uneven transfers", async () => {
    let t = 0; // ms, a clock the test owns
    const rate = new ByteRate(100_000, () => t, async (ms) => void (t += ms));
    let moved = 0;
    const sizes = [5_000, 250_000, 40_000, 1_000, 120_000];
    for (let i = 0; t < 60_000; i++) {
      await rate.ready();
      const size = sizes[i % sizes.length]!;
      t += size / 1_000; // the transfer itself takes time too (1 MB/s link)
      rate.spend(size);
      moved += size;
    }
    const average = moved / (t / 1000);
    expect(Math.abs(average - 100_000) / 100_000).toBeLessThan(0.1);
  });
});
