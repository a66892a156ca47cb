// Brings up the whole stack in order: database, migrations, seed, IdP, engine, worker, web.
// Used by `npm start` (scripts/launcher.ts) and by the end-to-end tests (on ports chosen at run time).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { migrateConsoleDatabase } from "../../db/migrate";
import { createCa } from "../../engine/relay/ca";
import { DEMO_ACCOUNTS } from "../dev-idp/accounts";
import { ProcessGroup, waitForHttp } from "./processes";
import { bootstrapDatabases, secret, startEmbeddedPostgres, type EmbeddedServer } from "./postgres";
import { assertPortsFree, freePort } from "./ports";
import { seedDemoMigration } from "../demo/migration";

export type Ports = { web: number; idp: number; engineAdmin: number; engineDicom: number; gateway: number };
export const DEFAULT_PORTS: Ports = { web: 3000, idp: 4000, engineAdmin: 7400, engineDicom: 11112, gateway: 7443 };

export type StackOptions = {
  root: string;
  dataDir: string;
  ports: Ports;
  env?: NodeJS.ProcessEnv;
  quiet?: boolean;
  onUnexpectedExit?: (name: string, code: number | null) => void;
  /** receives the stop function at once, so an interrupt during start-up still stops what was started */
  onStopAvailable?: (stop: () => Promise<void>) => void;
};

export type Stack = {
  webUrl: string;
  idpIssuer: string | null;
  engineAdminUrl: string;
  engineAdminToken: string;
  databaseUrl: string;
  consoleOwnerUrl: string;
  engineDatabaseUrl: string;
  demo: boolean;
  stop: () => Promise<void>;
  stopEngine: () => Promise<void>;
  startEngine: () => Promise<void>;
};

type Secrets = {
  consoleOwner: string;
  consoleApp: string;
  engine: string;
  engineAdminToken: string;
  authSecret: string;
  oidcClientSecret: string;
  engineMasterKey: string;
  auditSigningKey: string;
  embeddedPgPort?: number;
};

function loadSecrets(dataDir: string): Secrets {
  const file = path.join(dataDir, "secrets.json");
  if (existsSync(file)) {
    const s = JSON.parse(readFileSync(file, "utf8")) as Secrets;
    s.engineMasterKey ??= randomBytes(32).toString("base64");
    s.auditSigningKey ??= randomBytes(32).toString("base64");
    return s;
  }
  const s: Secrets = {
    consoleOwner: secret(),
    consoleApp: secret(),
    engine: secret(),
    engineAdminToken: secret(32),
    authSecret: secret(33),
    oidcClientSecret: secret(),
    engineMasterKey: randomBytes(32).toString("base64"),
    auditSigningKey: randomBytes(32).toString("base64"),
  };
  writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  return s;
}

function saveSecrets(dataDir: string, s: Secrets) {
  writeFileSync(path.join(dataDir, "secrets.json"), JSON.stringify(s, null, 2), { mode: 0o600 });
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const env = opts.env ?? process.env;
  const { root, dataDir, ports } = opts;
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const procs = new ProcessGroup({ quiet: opts.quiet, onExit: opts.onUnexpectedExit });
  const tsx = [path.join(root, "node_modules/tsx/dist/cli.mjs")];
  const serverTsx = [...tsx, "--conditions=react-server"];
  const node = process.execPath;
  const say = (m: string) => !opts.quiet && console.log(`launch  │ ${m}`);
  let embedded: EmbeddedServer | undefined;

  const stop = async () => {
    await procs.stopAll();
    await embedded?.stop();
    embedded = undefined;
  };
  opts.onStopAvailable?.(stop);

  try {
    await assertPortsFree({
      WEB_PORT: ports.web,
      ENGINE_ADMIN_PORT: ports.engineAdmin,
      ENGINE_DICOM_PORT: ports.engineDicom,
      ENGINE_GATEWAY_PORT: ports.gateway,
      ...(env.AUTH_OIDC_ISSUER ? {} : { DEV_IDP_PORT: ports.idp }),
    });
    // 1. Databases: the servers named by DATABASE_URL/ENGINE_DATABASE_URL, or an embedded PostgreSQL.
    const secrets = loadSecrets(dataDir);
    saveSecrets(dataDir, secrets);
    let urls: { consoleOwnerUrl: string; consoleAppUrl: string; engineUrl: string };
    const demo = !env.DATABASE_URL;
    if (env.DATABASE_URL) {
      if (!env.ENGINE_DATABASE_URL) throw new Error("DATABASE_URL is set but ENGINE_DATABASE_URL is not: set both, or neither for the embedded default.");
      urls = {
        consoleAppUrl: env.DATABASE_URL,
        consoleOwnerUrl: env.DATABASE_OWNER_URL ?? env.DATABASE_URL,
        engineUrl: env.ENGINE_DATABASE_URL,
      };
      say("using the PostgreSQL servers from DATABASE_URL and ENGINE_DATABASE_URL");
    } else {
      secrets.embeddedPgPort ??= await freePort();
      saveSecrets(dataDir, secrets);
      say(`starting embedded PostgreSQL (data in ${path.relative(root, path.join(dataDir, "pg")) || dataDir})`);
      embedded = await startEmbeddedPostgres({
        dir: path.join(dataDir, "pg"),
        port: secrets.embeddedPgPort,
        persistent: true,
        onLog: (l) => env.DEBUG_POSTGRES && say(l),
      });
      urls = await bootstrapDatabases(embedded.adminUrl, {
        passwords: { consoleOwner: secrets.consoleOwner, consoleApp: secrets.consoleApp, engine: secrets.engine },
      });
    }

    // 2. Console migrations (as owner), then demo data through the application role.
    say("applying console database migrations");
    await migrateConsoleDatabase(urls.consoleOwnerUrl, decodeURIComponent(new URL(urls.consoleAppUrl).username));
    const baseEnv = { ...env, NODE_ENV: "production" as const, DATABASE_URL: urls.consoleAppUrl };
    if (demo) {
      say("seeding demo data");
      await procs.run("seed", node, [...serverTsx, path.join(root, "db/seed.ts")], baseEnv);
    }

    // 3. Identity: the dev IdP unless a real issuer is configured.
    const webUrl = env.AUTH_URL ?? `http://localhost:${ports.web}`;
    const auth = env.AUTH_OIDC_ISSUER
      ? {
          AUTH_OIDC_ISSUER: env.AUTH_OIDC_ISSUER,
          AUTH_OIDC_CLIENT_ID: env.AUTH_OIDC_CLIENT_ID,
          AUTH_OIDC_CLIENT_SECRET: env.AUTH_OIDC_CLIENT_SECRET,
        }
      : {
          AUTH_OIDC_ISSUER: `http://localhost:${ports.idp}`,
          AUTH_OIDC_CLIENT_ID: "imaging-console",
          AUTH_OIDC_CLIENT_SECRET: secrets.oidcClientSecret,
        };
    const authEnv = { ...auth, AUTH_URL: webUrl, AUTH_SECRET: env.AUTH_SECRET ?? secrets.authSecret };
    if (!env.AUTH_OIDC_ISSUER) {
      const idp = procs.start("idp", node, [...tsx, path.join(root, "scripts/dev-idp.ts")], {
        ...baseEnv,
        ...authEnv,
        DEV_IDP_PORT: String(ports.idp),
        LAUNCHER_PID: String(process.pid),
      });
      await waitForHttp(`http://127.0.0.1:${ports.idp}/.well-known/openid-configuration`, 30_000, () => idp.exitCode === null);
    }

    // 4. Engine.
    const engineAdminUrl = `http://127.0.0.1:${ports.engineAdmin}`;
    const engineAdminToken = env.ENGINE_ADMIN_TOKEN ?? secrets.engineAdminToken;
    const engineEnv: Record<string, string> = {
      ENGINE_DATABASE_URL: urls.engineUrl,
      ENGINE_ADMIN_TOKEN: engineAdminToken,
      ENGINE_ADMIN_PORT: String(ports.engineAdmin),
      ENGINE_DICOM_PORT: String(ports.engineDicom),
      ENGINE_GATEWAY_PORT: String(ports.gateway),
      // The embedded mode keeps its master key beside the data; in production it comes from a secret store.
      ENGINE_MASTER_KEY: env.ENGINE_MASTER_KEY ?? secrets.engineMasterKey,
      ENGINE_BLOB_DIR: env.ENGINE_BLOB_DIR ?? path.join(dataDir, "blobs"),
    };
    // The demo tenant's import folder (the demo archive) and export folder (its hand-off file-set), beside the data.
    if (demo) {
      engineEnv.ENGINE_IMPORT_ROOT = env.ENGINE_IMPORT_ROOT ?? path.join(dataDir, "import");
      engineEnv.ENGINE_EXPORT_ROOT = env.ENGINE_EXPORT_ROOT ?? path.join(dataDir, "export");
    }
    const caFiles = await ensureDevCa(dataDir);
    Object.assign(engineEnv, env.ENGINE_CA_CERT_FILE ? {} : { ENGINE_CA_CERT_FILE: caFiles.cert, ENGINE_CA_KEY_FILE: caFiles.key });
    const startEngine = async () => {
      const engine = procs.start("engine", node, [...tsx, path.join(root, "engine/main.ts")], { ...env, ...engineEnv });
      await waitForHttp(`${engineAdminUrl}/healthz`, 60_000, () => engine.exitCode === null);
    };
    await startEngine();
    // The demo migration, so a newcomer's migration screens are not empty (DEMO_MIGRATION=0 leaves it out): see README.
    if (demo && env.DEMO_MIGRATION !== "0") {
      say("seeding the demo migration");
      await seedDemoMigration({ engineUrl: engineAdminUrl, token: engineAdminToken, importRoot: engineEnv.ENGINE_IMPORT_ROOT!, say });
    }

    // 5. Worker and web.
    const consoleEnv = {
      ...baseEnv,
      ...authEnv,
      ENGINE_ADMIN_URL: engineAdminUrl,
      ENGINE_ADMIN_TOKEN: engineAdminToken,
      ENGINE_DICOM_HOST: "127.0.0.1",
      ENGINE_DICOM_PORT: String(ports.engineDicom),
      // Like the master key: kept beside the data in the embedded mode, from a secret store in production.
      AUDIT_SIGNING_KEY: env.AUDIT_SIGNING_KEY ?? secrets.auditSigningKey,
    };
    // A demo tenant already offboarded (db/seed-offboarded.ts), through the engine like any offboarding.
    if (demo) {
      say("seeding the offboarded demo tenant");
      await procs.run("seed", node, [...serverTsx, path.join(root, "db/seed-offboarded.ts")], { ...consoleEnv, OFFBOARDING_WAIT_HOURS: "0" });
    }
    // The demo's weekly report comes a few minutes in (the migration has progress by then), not next Monday.
    const demoReport = demo && env.DEMO_MIGRATION !== "0" && !env.WORKER_DEMO_REPORT_AFTER_SECONDS ? { WORKER_DEMO_REPORT_AFTER_SECONDS: "180" } : {};
    procs.start("worker", node, [...serverTsx, path.join(root, "server/worker/main.ts")], { ...consoleEnv, ...demoReport });
    const nextBin = path.join(root, "node_modules/next/dist/bin/next");
    if (needsBuild(root)) {
      say("building the web application (first start or sources changed)");
      await procs.run("build", node, [nextBin, "build"], { ...env, NODE_ENV: "production" as const });
    }
    const web = procs.start("web", node, [nextBin, "start", "-p", String(ports.web), "-H", env.WEB_HOST ?? "127.0.0.1"], consoleEnv);
    await waitForHttp(`http://127.0.0.1:${ports.web}/api/healthz`, 90_000, () => web.exitCode === null);

    writeDevEnv(dataDir, {
      ENGINE_ADMIN_URL: engineAdminUrl,
      ENGINE_ADMIN_TOKEN: engineAdminToken,
      ENGINE_DICOM_PORT: String(ports.engineDicom),
      ENGINE_GATEWAY_URL: `wss://localhost:${ports.gateway}`,
      AUTH_SECRET: authEnv.AUTH_SECRET,
      AUDIT_SIGNING_KEY: consoleEnv.AUDIT_SIGNING_KEY,
      DATABASE_URL: urls.consoleAppUrl,
      ENGINE_DATABASE_URL: urls.engineUrl,
      WEB_URL: webUrl,
    });
    return {
      webUrl,
      idpIssuer: env.AUTH_OIDC_ISSUER ? null : auth.AUTH_OIDC_ISSUER,
      engineAdminUrl,
      engineAdminToken,
      databaseUrl: urls.consoleAppUrl,
      consoleOwnerUrl: urls.consoleOwnerUrl,
      engineDatabaseUrl: urls.engineUrl,
      demo,
      stop,
      // For the end-to-end suite's "engine down" scenarios.
      stopEngine: () => procs.stop("engine"),
      startEngine,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The launcher's development router CA (hosted mode), created once under the data directory. */
async function ensureDevCa(dataDir: string) {
  const dir = path.join(dataDir, "ca");
  const files = { cert: path.join(dir, "router-ca.pem"), key: path.join(dir, "router-ca.key") };
  if (!existsSync(files.cert) || !existsSync(files.key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const ca = await createCa("Imaging relay development CA");
    writeFileSync(files.cert, ca.certPem);
    writeFileSync(files.key, ca.keyPem, { mode: 0o600 });
  }
  return files;
}

/** Build when there is no build yet or any source file is newer than it. */
function needsBuild(root: string) {
  const buildId = path.join(root, ".next/BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const newer = (dir: string): boolean => {
    const full = path.join(root, dir);
    if (!existsSync(full)) return false;
    const st = statSync(full);
    if (!st.isDirectory()) return st.mtimeMs > built;
    return readdirSync(full).some((name) => !name.startsWith(".") && name !== "__tests__" && newer(path.join(dir, name)));
  };
  return ["app", "components", "server", "db/schema", "engine/api", "lib", "proxy.ts", "next.config.ts", "package.json"].some(newer);
}


function writeDevEnv(dataDir: string, vars: Record<string, string>) {
  const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const body = Object.entries(vars)
    .map(([k, v]) => `export ${k}=${quote(v)}`)
    .join("\n");
  writeFileSync(path.join(dataDir, "dev.env"), `# Written by the launcher for the embedded/demo mode. source .data/dev.env\n${body}\n`, { mode: 0o600 });
}

export function demoAccountsTable() {
  return DEMO_ACCOUNTS.map((a) => `  ${a.email.padEnd(26)} ${a.description}`).join("\n");
}
