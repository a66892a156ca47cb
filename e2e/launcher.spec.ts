// The real launcher, as a newcomer runs it (an e2e spec rather than a vitest file, so its ports are not raced by
// vitest files running in parallel, and the web build is the one global setup made): `npm start`, Ctrl-C (SIGINT to the whole foreground process group, so
// npm, the launcher and the embedded database all get it at once), then `npm start` again on the same ports.
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { interrupt as stopNpm, npmStartEnv, portFree, stackProcesses as marked, start } from "./npm-start";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "launcher-test-"));
const mark = `launcher-test-${randomUUID()}`;
const stackProcesses = () => marked(mark);
const interrupt = (child: ChildProcess) => stopNpm(child, mark);

test.describe("npm start and Ctrl-C", () => {
  let running: ChildProcess | undefined;
  test.afterAll(async () => {
    if (running?.exitCode === null) await interrupt(running).catch(() => {});
    for (const p of stackProcesses()) process.kill(Number(p.split(" ")[0]), "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("stops every process it started, and a second start comes up on the same ports", async () => {
    test.setTimeout(15 * 60_000);
    const { ports, env } = await npmStartEnv(dataDir, mark);

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
