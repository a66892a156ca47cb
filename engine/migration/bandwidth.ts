// A bandwidth cap in bytes per second. A transfer records what it moved once it is done; the next one waits until
// the budget has refilled, so the average over any minute stays at the cap (bursts are one study long).
// Concurrent workers take turns: a transfer that has started holds the turn until it records its bytes, so two
// workers never both start on the same refilled budget.
export class ByteRate {
  private debt = 0;
  private last: number;
  private turn: Promise<void> = Promise.resolve();

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

  /**
   * Resolves when a new transfer may start, with the function that records what it moved (call it once; 0 if it
   * moved nothing). Until it is called, the next transfer waits.
   */
  async ready(): Promise<(bytes: number) => void> {
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise((r) => (release = r));
    await previous;
    this.refill();
    if (this.debt > 0) await this.sleep((this.debt / this.bytesPerSecond) * 1000);
    this.refill();
    let paid = false;
    return (bytes) => {
      if (paid) return;
      paid = true;
      this.refill();
      this.debt += bytes;
      release();
    };
  }
}
