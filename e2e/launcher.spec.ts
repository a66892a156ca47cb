// The real launcher, as a newcomer runs it (an e2e spec rather than a vitest file, so its ports are not raced by
// vitest files running in parallel, and the web build is the one global setup made): `npm start`, Ctrl-C (SIGINT to the whole foreground process group, so
// npm, the launcher and the embedded database all get it at once), then `npm start` again on the same ports.
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { freePort } from "../scripts/lib/ports";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "launcher-test-"));
const mark = `launcher-test-${randomUUID()}`;

/** Processes whose environment carries this test's mark: everything the launcher started, at any depth. */
function stackProcesses() {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "latin1").includes(`LAUNCHER_TEST_MARK=${mark}`)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim()}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer().once("error", () => resolve(false));
    s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)));
  });

async function start(env: NodeJS.ProcessEnv) {
  // detached: a process group of its own, like a shell's foreground job.
  const child = spawn("npm", ["start"], { cwd: root, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not up after 8 minutes:\n${output.slice(-3000)}`)), 8 * 60_000);
    const onData = (b: Buffer) => {
      output += b.toString();
      if (output.includes("is up")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before the stack was up:\n${output.slice(-3000)}`));
    });
  });
  child.removeAllListeners("exit");
  return { child, output: () => output };
}

async function interrupt(child: ChildProcess) {
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
  process.kill(-child.pid!, "SIGINT");
  await exited;
  // npm may return before the launcher has finished stopping what it started: give it the children's grace period.
  for (let i = 0; i < 60 && stackProcesses().length; i++) await new Promise((r) => setTimeout(r, 500));
}

test.describe("npm start and Ctrl-C", () => {
  let running: ChildProcess | undefined;
  test.afterAll(async () => {
    if (running?.exitCode === null) await interrupt(running).catch(() => {});
    for (const p of stackProcesses()) process.kill(Number(p.split(" ")[0]), "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("stops every process it started, and a second start comes up on the same ports", async () => {
    test.setTimeout(15 * 60_000);
    const ports = { WEB_PORT: await freePort(), DEV_IDP_PORT: await freePort(), ENGINE_ADMIN_PORT: await freePort(), ENGINE_DICOM_PORT: await freePort(), ENGINE_GATEWAY_PORT: await freePort() };
    const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), DATA_DIR: dataDir, LAUNCHER_TEST_MARK: mark };
    // The embedded default, whatever this shell points at.
    for (const k of ["DATABASE_URL", "ENGINE_DATABASE_URL", "DATABASE_OWNER_URL", "AUTH_OIDC_ISSUER", "AUTH_URL", "AUTH_SECRET", "ENGINE_ADMIN_TOKEN"]) delete env[k];

    const first = await start(env);
    running = first.child;
    expect(stackProcesses().some((p) => p.includes("dev-idp"))).toBe(true);
    await interrupt(first.child);
    expect(stackProcesses()).toEqual([]);
    for (const port of Object.values(ports)) expect(await portFree(port), `port ${port} is still taken`).toBe(true);

    const second = await start(env);
    running = second.child;
    expect(second.output()).not.toContain("already in use");
    await interrupt(second.child);
    expect(stackProcesses()).toEqual([]);
  });
});
