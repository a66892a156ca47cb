// npm run audit:verify -- <export.jsonl> [--public-key <base64 | PEM file>] [--migration-report <report.json>] [--json]
// npm run audit:verify -- --tenant <slug> | --global            (straight from the console database)
//
// Checks every link and every checkpoint signature of an audit export and reports the first broken entry. An
// export file is checked with server/audit/verifier.ts alone (node:crypto, nothing else of the application);
// --tenant/--global read the chain from DATABASE_URL (default: the launcher's .data/dev.env) and verify it the
// same way. With --migration-report (the engine's exported verification report, GET …/migrations/{id}/report),
// each migrated study's record is recomputed from the report and checked against the recordHash its
// migration.study_migrated entry sealed into the (verified) chain: a record edited afterwards is named.
// Exit status: 0 verified, 1 a problem was found, 2 the command could not run.
import { createReadStream, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { z } from "zod";
import { VerificationReport } from "../engine/api/contract";
import { createMigrationRecordCheck, createVerifier, type MigrationRecordReport, type Report } from "../server/audit/verifier";

const usage = "usage: npm run audit:verify -- <export.jsonl> [--public-key <base64|file.pem>] [--migration-report <report.json>] [--json]\n       npm run audit:verify -- --tenant <slug> | --global";

function print(report: Report, json: boolean) {
  if (json) return console.log(JSON.stringify(report, null, 2));
  const range = report.firstSeq === null ? "no entries" : `seq ${report.firstSeq}..${report.lastSeq}`;
  console.log(`chain ${report.chain ?? "?"} (${report.complete ? "complete" : "filtered"}): ${report.entries} entries (${range}), ${report.checkpoints} signed checkpoints`);
  for (const n of report.notes) console.log(`note: ${n}`);
  if (report.ok) console.log("VERIFIED: every hash, every link and every checkpoint signature checks out");
  else console.log(`BROKEN at line ${report.firstProblem!.line}${report.firstProblem!.seq ? ` (seq ${report.firstProblem!.seq})` : ""}: ${report.firstProblem!.problem}`);
}

async function verifyFile(file: string, trustedKeys: string[], records?: ReturnType<typeof createMigrationRecordCheck>) {
  const v = createVerifier({ trustedKeys });
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    v.line(line);
    if (v.failed) break;
    records?.line(line);
  }
  lines.close();
  return v.finish();
}

function readMigrationReport(file: string) {
  if (!existsSync(file)) throw new Error(`no such file: ${file}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new Error(`${file} is not JSON: export it with GET …/migrations/{id}/report?format=json`);
  }
  const parsed = VerificationReport.safeParse(json);
  if (!parsed.success) throw new Error(`${file} is not a migration verification report:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function printRecords(r: MigrationRecordReport) {
  console.log(`migration ${r.migrationId}: ${r.studies} studies in the report, ${r.sealed} sealed in the chain`);
  if (r.ok) console.log("VERIFIED: every study's record matches the hash sealed in the chain");
  else for (const p of r.problems) console.log(`RECORD MISMATCH${p.seq ? ` (seq ${p.seq})` : ""}: ${p.problem}`);
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
    options: { "public-key": { type: "string", multiple: true }, "migration-report": { type: "string" }, tenant: { type: "string" }, global: { type: "boolean" }, json: { type: "boolean" }, help: { type: "boolean" } },
  });
  if (values.help) return void console.log(usage);
  const keys = (values["public-key"] ?? []).map((k) => (existsSync(k) ? readFileSync(k, "utf8") : k));
  if (values["migration-report"] && !positionals.length) throw new Error("--migration-report needs the chain's export file (the tenant's audit export, JSON lines)");
  let report: Report;
  let records: MigrationRecordReport | undefined;
  if (values.tenant || values.global) report = await verifyFromDatabase(values.tenant ?? null);
  else if (positionals.length === 1) {
    if (!existsSync(positionals[0]!)) throw new Error(`no such file: ${positionals[0]}`);
    const check = values["migration-report"] ? createMigrationRecordCheck(readMigrationReport(values["migration-report"])) : undefined;
    report = await verifyFile(positionals[0]!, keys, check);
    // Records are only as good as the chain that sealed them: checked once the chain verified.
    if (check && report.ok) records = check.finish();
  } else throw new Error(usage);
  if (values.json) console.log(JSON.stringify(records ? { chain: report, migrationRecords: records } : report, null, 2));
  else {
    print(report, false);
    if (records) printRecords(records);
  }
  process.exitCode = report.ok && (records?.ok ?? true) ? 0 : 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
});
