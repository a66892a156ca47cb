// A bandwidth cap in bytes per second. A transfer spends what it moved once it is done; the next one waits until
// the budget has refilled, so the average over any minute stays at the cap (bursts are one study long).
export class ByteRate {
  private debt = 0;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.last = now();
  }

  private refill() {
    const t = this.now();
    this.debt = Math.max(0, this.debt - ((t - this.last) / 1000) * this.bytesPerSecond);
    this.last = t;
  }

  /** Resolves when a new transfer may start. */
  async ready() {
    this.refill();
    if (this.debt > 0) await this.sleep((this.debt / this.bytesPerSecond) * 1000);
    this.refill();
  }

  spend(bytes: number) {
    this.refill();
    this.debt += bytes;
  }
}
