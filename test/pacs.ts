// DCMTK storescp as the tenant's local PACS: accepts every transfer syntax, writes each instance to a directory.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { readdir } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../scripts/lib/ports";

/**
 * `promiscuous`: also accepts SOP classes DCMTK does not know (a PACS configured for a vendor's private objects).
 * `at`: the port and folder of a PACS stopped earlier, to bring the same one back (tests of a PACS outage).
 */
export async function startStorescp(aeTitle = "PACS", opts: { promiscuous?: boolean; at?: { port: number; dir: string } } = {}) {
  const port = opts.at?.port ?? (await freePort());
  const dir = opts.at?.dir ?? mkdtempSync(path.join(os.tmpdir(), "pacs-"));
  const child: ChildProcess = spawn("storescp", ["-aet", aeTitle, "+xa", ...(opts.promiscuous ? ["-pm"] : []), "-od", dir, String(port)], {
    env: { ...process.env, TCP_NODELAY: "1" },
    stdio: "ignore",
  });
  // storescp prints nothing when ready: wait until it accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error("storescp did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    aeTitle,
    dir,
    files: async () => (await readdir(dir)).filter((f) => !f.startsWith(".")).map((f) => path.join(dir, f)),
    stop: () => child.kill("SIGTERM"),
    /** Stops it and resolves once it has exited (its port refuses connections). */
    stopped: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.kill("SIGTERM")))),
  };
}
