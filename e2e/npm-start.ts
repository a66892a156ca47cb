// The real `npm start` as a newcomer runs it, for the specs that start a stack of their own (launcher, demo
// migration): spawned in a process group of its own, like a shell's foreground job, and stopped the way Ctrl-C
// stops it (SIGINT to the whole group, so npm, the launcher and the embedded database all get it at once).
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort } from "../scripts/lib/ports";

const root = path.resolve(import.meta.dirname, "..");

/** Processes whose environment carries `mark` (as NPM_START_MARK): everything the launcher started, at any depth. */
export function stackProcesses(mark: string) {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, "latin1").includes(`NPM_START_MARK=${mark}`)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim()}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer().once("error", () => resolve(false));
    s.listen(port, "0.0.0.0", () => s.close(() => resolve(true)));
  });

/** Fresh ports and the embedded default (whatever this shell points at), data in `dataDir`, tagged with `mark`. */
export async function npmStartEnv(dataDir: string, mark: string) {
  const ports = { WEB_PORT: await freePort(), DEV_IDP_PORT: await freePort(), ENGINE_ADMIN_PORT: await freePort(), ENGINE_DICOM_PORT: await freePort(), ENGINE_GATEWAY_PORT: await freePort() };
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), DATA_DIR: dataDir, NPM_START_MARK: mark };
  for (const k of ["DATABASE_URL", "ENGINE_DATABASE_URL", "DATABASE_OWNER_URL", "AUTH_OIDC_ISSUER", "AUTH_URL", "AUTH_SECRET", "ENGINE_ADMIN_TOKEN"]) delete env[k];
  return { ports, env };
}

/** `npm start`, resolved once it says the stack is up. */
export async function start(env: NodeJS.ProcessEnv) {
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

/** Ctrl-C: resolves once npm has exited and (within the children's grace period) every process it started. */
export async function interrupt(child: ChildProcess, mark: string) {
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
  process.kill(-child.pid!, "SIGINT");
  await exited;
  // npm may return before the launcher has finished stopping what it started: give it the children's grace period.
  for (let i = 0; i < 60 && stackProcesses(mark).length; i++) await new Promise((r) => setTimeout(r, 500));
}
