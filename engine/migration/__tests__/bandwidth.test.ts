import { describe, expect, it } from "vitest";
import { ByteRate } from "../bandwidth";

describe("bandwidth cap", () => {
  it("keeps the average at the cap over a simulated minute of uneven transfers", async () => {
    let t = 0; // ms, a clock the test owns
    const rate = new ByteRate(100_000, () => t, async (ms) => void (t += ms));
    let moved = 0;
    const sizes = [5_000, 250_000, 40_000, 1_000, 120_000];
    for (let i = 0; t < 60_000; i++) {
      const spend = await rate.ready();
      const size = sizes[i % sizes.length]!;
      t += size / 1_000; // the transfer itself takes time too (1 MB/s link)
      spend(size);
      moved += size;
    }
    const average = moved / (t / 1000);
    expect(Math.abs(average - 100_000) / 100_000).toBeLessThan(0.1);
  });

  it("makes concurrent workers take turns instead of starting together on one refilled budget", async () => {
    let t = 0;
    const rate = new ByteRate(100_000, () => t, async (ms) => void (t += ms));
    const starts: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        for (let i = 0; i < 5; i++) {
          const spend = await rate.ready();
          starts.push(t);
          await Promise.resolve(); // the transfer
          spend(50_000);
        }
      }),
    );
    // 20 transfers of 50 kB at 100 kB/s: each starts half a second after the one before, whichever worker runs it.
    expect(starts).toHaveLength(20);
    expect(starts.at(-1)).toBeCloseTo(19 * 500, 5);
    starts.slice(1).forEach((s, i) => expect(s - starts[i]!).toBeCloseTo(500, 5));
  });
});
