// Child processes with prefixed logs, started in their own process groups so stopping one stops everything
// it spawned (e.g. `next start` leaves `next-server` behind if only its PID is killed).
import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";

const COLORS = [36, 35, 33, 32, 34, 31];

export class ProcessGroup {
  private children: { name: string; child: ChildProcess }[] = [];
  private stopping = false;

  constructor(private readonly opts: { quiet?: boolean; onExit?: (name: string, code: number | null) => void } = {}) {}

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, oneShot = false) {
    const child = spawn(command, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const color = COLORS[this.children.length % COLORS.length];
    const prefix = process.stdout.isTTY ? `\x1b[${color}m${name.padEnd(7)}\x1b[0m │ ` : `${name.padEnd(7)} │ `;
    for (const stream of [child.stdout, child.stderr]) {
      const rl = readline.createInterface({ input: stream! });
      rl.on("line", (line) => {
        if (!this.opts.quiet) process.stdout.write(prefix + line + "\n");
      });
    }
    child.on("exit", (code) => {
      if (!this.stopping && !oneShot) this.opts.onExit?.(name, code);
    });
    this.children.push({ name, child });
    return child;
  }

  /** Stops one named child (and its process group) on purpose: not reported as an unexpected exit. */
  async stop(name: string, graceMs = 8000) {
    const entry = this.children.find((c) => c.name === name && c.child.exitCode === null);
    if (!entry?.child.pid) return;
    this.children = this.children.filter((c) => c !== entry);
    entry.child.removeAllListeners("exit");
    const exited = new Promise<void>((resolve) => entry.child.once("exit", () => resolve()));
    process.kill(-entry.child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(-entry.child.pid!, "SIGKILL");
      } catch {}
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Runs a command to completion (prefixed output); rejects with its exit code. */
  async run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
    const child = this.start(name, command, args, env, true);
    const code: number | null = await new Promise((resolve) => child.on("exit", resolve));
    this.children = this.children.filter((c) => c.child !== child);
    if (code !== 0) throw new Error(`${name} exited with code ${code}`);
  }

  /**
   * Stops every child at once: SIGTERM to each process group, SIGKILL after a grace period. At once, not one after
   * another: a grace period per child made Ctrl-C take long enough for a second signal to cut it short.
   */
  async stopAll(graceMs = 8000) {
    this.stopping = true;
    await Promise.all(
      this.children.map(async ({ child }) => {
        if (child.exitCode !== null || child.pid === undefined) return;
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          return;
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {}
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.children = [];
  }
}

/** Polls `url` until it answers 2xx (or `timeoutMs` passes). */
export async function waitForHttp(url: string, timeoutMs = 60_000, isAlive: () => boolean = () => true) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`process serving ${url} exited`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${url} (${last})`);
}
