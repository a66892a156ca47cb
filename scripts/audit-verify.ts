// npm run audit:verify -- <export.jsonl> [--public-key <base64 | PEM file>] [--json]
// npm run audit:verify -- --tenant <slug> | --global            (straight from the console database)
//
// Checks every link and every checkpoint signature of an audit export and reports the first broken entry. An
// export file is checked with server/audit/verifier.ts alone (node:crypto, nothing else of the application);
// --tenant/--global read the chain from DATABASE_URL (default: the launcher's .data/dev.env) and verify it the
// same way. Exit status: 0 verified, 1 a problem was found, 2 the command could not run.
import { createReadStream, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createVerifier, type Report } from "../server/audit/verifier";

const usage = "usage: npm run audit:verify -- <export.jsonl> [--public-key <base64|file.pem>] [--json]\n       npm run audit:verify -- --tenant <slug> | --global";

function print(report: Report, json: boolean) {
  if (json) return console.log(JSON.stringify(report, null, 2));
  const range = report.firstSeq === null ? "no entries" : `seq ${report.firstSeq}..${report.lastSeq}`;
  console.log(`chain ${report.chain ?? "?"} (${report.complete ? "complete" : "filtered"}): ${report.entries} entries (${range}), ${report.checkpoints} signed checkpoints`);
  for (const n of report.notes) console.log(`note: ${n}`);
  if (report.ok) console.log("VERIFIED: every hash, every link and every checkpoint signature checks out");
  else console.log(`BROKEN at line ${report.firstProblem!.line}${report.firstProblem!.seq ? ` (seq ${report.firstProblem!.seq})` : ""}: ${report.firstProblem!.problem}`);
}

async function verifyFile(file: string, trustedKeys: string[]) {
  const v = createVerifier({ trustedKeys });
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    v.line(line);
    if (v.failed) break;
  }
  lines.close();
  return v.finish();
}

async function verifyFromDatabase(slug: string | null) {
  if (!process.env.DATABASE_URL) {
    const devEnv = path.resolve(import.meta.dirname, "../.data/dev.env");
    if (existsSync(devEnv)) (await import("dotenv")).config({ path: devEnv, quiet: true });
  }
  // Application code only in this mode: it reads the chain through the same export an auditor would get.
  const { verifyChain } = await import("../server/audit/export");
  const { globalChain, systemTenantChain } = await import("../server/audit/queries");
  const { listAllTenants } = await import("../server/tenancy/service");
  const { closeDb } = await import("../server/db");
  try {
    if (slug === null) return await verifyChain(globalChain);
    const tenant = (await listAllTenants()).find((t) => t.slug === slug);
    if (!tenant) throw new Error(`no tenant with slug "${slug}"`);
    return await verifyChain(systemTenantChain(tenant));
  } finally {
    await closeDb();
  }
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { "public-key": { type: "string", multiple: true }, tenant: { type: "string" }, global: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean" } },
  });
  if (values.help) return void console.log(usage);
  const keys = (values["public-key"] ?? []).map((k) => (existsSync(k) ? readFileSync(k, "utf8") : k));
  let report: Report;
  if (values.tenant || values.global) report = await verifyFromDatabase(values.tenant ?? null);
  else if (positionals.length === 1) {
    if (!existsSync(positionals[0]!)) throw new Error(`no such file: ${positionals[0]}`);
    report = await verifyFile(positionals[0]!, keys);
  } else throw new Error(usage);
  print(report, !!values.json);
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
});
