// npm run migration:reverify -- --report <report.json> --target <AET@host:port | DICOMweb URL> --key <ed25519.pem>
//                                [--sample N --seed S] [--calling-ae AET] [--out statement.json]
// npm run migration:reverify -- --check <statement.json> [--public-key <base64 | PEM file>]
//
// An auditor's independent re-verification of a migration: it reads the exported verification report (never the
// engine's database), retrieves the recorded instances from the target again (C-GET, or WADO-RS) and hashes them
// with the engine's own rule (pipeline.ts `describe`: SHA-256 of the dataset without the file meta group). Its
// output is a statement signed with the auditor's Ed25519 key: which instances, each result, when, and the
// report's hash. Exit status: 0 every checked instance matches, 1 something differs or is missing (named), 2 the
// command could not run (a tampered or malformed report is refused here).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { VerificationReport } from "../engine/api/contract";
import { fromPeer, pick, reverify, type Peer, type Result } from "../engine/migration/reverify";
import { canonicalJson, reportSha256, studyRecordHash } from "../engine/migration/study-record";

const usage =
  "usage: npm run migration:reverify -- --report <report.json> --target <AET@host:port | https://…/dicom-web> --key <ed25519.pem> [--sample N --seed S] [--calling-ae AET] [--out file]\n" +
  "       npm run migration:reverify -- --check <statement.json> [--public-key <base64|file.pem>]";

export const STATEMENT_FORMAT = "imgops-reverify-statement/1";

class Refused extends Error {}

export function parsePeer(text: string, callingAeTitle: string): Peer {
  if (/^https?:\/\//.test(text)) return { kind: "dicomweb", url: text };
  const m = /^([^@]{1,16})@([^:]+):(\d{1,5})$/.exec(text);
  if (!m) throw new Refused(`--target "${text}" is neither AET@host:port (C-GET) nor a DICOMweb URL (WADO-RS)`);
  return { kind: "dicom", aeTitle: m[1]!, host: m[2]!, port: Number(m[3]), callingAeTitle };
}

/** The report, refused unless it is well-formed and its own hashes hold (the report's and each study record's). */
export function readReport(file: string): { report: VerificationReport; fileSha256: string } {
  if (!existsSync(file)) throw new Refused(`no such report file: ${file}`);
  const bytes = readFileSync(file);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new Refused(`${file} is not JSON: export the report with GET …/migrations/{id}/report?format=json`);
  }
  const parsed = VerificationReport.safeParse(json);
  if (!parsed.success) throw new Refused(`${file} is not a valid verification report:\n${z.prettifyError(parsed.error)}`);
  const report = parsed.data;
  if (reportSha256(report) !== report.reportSha256) throw new Refused(`${file} was changed after export: its content does not match its reportSha256`);
  for (const s of report.studies) {
    if (studyRecordHash(s.record) !== s.recordHash) throw new Refused(`${file}: the record of study ${s.record.studyInstanceUid} does not match its recordHash`);
  }
  return { report, fileSha256: createHash("sha256").update(bytes).digest("hex") };
}

/** The auditor's key: read from `file`, or generated there (0600) when absent; the public key is printed either way. */
export function loadOrCreateKey(file: string): { privateKey: KeyObject; publicKey: string; created: boolean } {
  if (existsSync(file)) {
    const privateKey = createPrivateKey(readFileSync(file, "utf8"));
    if (privateKey.asymmetricKeyType !== "ed25519") throw new Refused(`${file} is not an Ed25519 private key`);
    return { privateKey, publicKey: rawPublic(createPublicKey(privateKey)), created: false };
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(file, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
  return { privateKey, publicKey: rawPublic(publicKey), created: true };
}

const rawPublic = (k: KeyObject) => (k.export({ format: "der", type: "spki" }) as Buffer).subarray(-32).toString("base64");
const publicFromRaw = (b64: string) => createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(b64, "base64")]), format: "der", type: "spki" });

/** The signed statement: `signature` is Ed25519 over the canonical JSON of `statement`. */
export function signStatement(statement: Record<string, unknown>, privateKey: KeyObject, publicKey: string) {
  return { statement, publicKey, signature: sign(null, Buffer.from(canonicalJson(statement)), privateKey).toString("base64") };
}

export function checkStatement(doc: { statement: unknown; publicKey: string; signature: string }, trusted?: string) {
  const key = trusted ? (trusted.includes("BEGIN") ? createPublicKey(trusted) : publicFromRaw(trusted.trim())) : publicFromRaw(doc.publicKey);
  return verify(null, Buffer.from(canonicalJson(doc.statement)), key, Buffer.from(doc.signature, "base64"));
}

async function main() {
  const { values } = parseArgs({
    options: {
      report: { type: "string" },
      target: { type: "string" },
      key: { type: "string" },
      sample: { type: "string" },
      seed: { type: "string" },
      "calling-ae": { type: "string", default: "IMGOPS_REVERIFY" },
      out: { type: "string" },
      check: { type: "string" },
      "public-key": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return void console.log(usage);
  if (values.check) {
    const doc = JSON.parse(readFileSync(values.check, "utf8"));
    const k = values["public-key"];
    const ok = checkStatement(doc, k && existsSync(k) ? readFileSync(k, "utf8") : k);
    console.log(ok ? `SIGNATURE VALID (key ${doc.publicKey})${k ? "" : " — checked against the key named in the statement; pass --public-key to rule out a re-signed one"}` : "SIGNATURE INVALID: the statement was changed or signed by another key");
    process.exitCode = ok ? 0 : 1;
    return;
  }
  if (!values.report || !values.target || !values.key) throw new Refused(usage);
  const sample = values.sample !== undefined ? { n: Number(values.sample), seed: values.seed ?? "" } : undefined;
  if (sample && (!Number.isInteger(sample.n) || sample.n < 1 || !sample.seed)) throw new Refused("--sample needs a positive whole number and --seed a value (it is recorded in the statement)");
  const { report, fileSha256 } = readReport(values.report);
  const peer = parsePeer(values.target, values["calling-ae"]!);
  const key = loadOrCreateKey(values.key);
  if (key.created) console.error(`generated an Ed25519 key in ${values.key}`);
  console.error(`public key (Ed25519, base64): ${key.publicKey}`);
  const planned = pick(report, sample);
  const results = await reverify(planned, fromPeer(peer));
  const failed = results.filter((r) => r.result !== "match");
  const statement = {
    format: STATEMENT_FORMAT,
    migrationId: report.migrationId,
    reportSha256: report.reportSha256,
    reportFileSha256: fileSha256,
    target: values.target,
    checkedAt: new Date().toISOString(),
    sample: sample ?? null,
    instancesInReport: report.studies.reduce((n, s) => n + s.record.instances.length, 0),
    checked: results.length,
    matched: results.length - failed.length,
    ok: failed.length === 0,
    results,
  };
  const signed = JSON.stringify(signStatement(statement, key.privateKey, key.publicKey), null, 2);
  if (values.out) writeFileSync(values.out, `${signed}\n`);
  else console.log(signed);
  for (const f of failed) console.error(`${f.result.toUpperCase()}: study ${f.studyInstanceUid} instance ${f.targetSopInstanceUid}${f.result === "mismatch" ? ` (target now ${f.foundSha256}, recorded ${f.expectedSha256})` : " (not at the target)"}`);
  console.error(failed.length ? `FAILED: ${failed.length} of ${results.length} instances do not match` : `VERIFIED: ${results.length} instances match the report`);
  process.exitCode = failed.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exitCode = 2;
  });
}
