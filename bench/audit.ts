// npm run bench:audit — the audit log's three figures, each beside a baseline measured in the same run:
//  1. verification rate (entries/s) of the offline verifier beside raw SHA-256 over the same canonical bytes;
//  2. append throughput with 8 concurrent writers on one chain beside the same inserts without the chain;
//  3. the audit screen's query (listAuditEntries, RLS transaction included) at 10 million entries, p50/p95 per
//     kind of request, beside the OFFSET pagination it replaces.
// A real PostgreSQL: DATABASE_URL (a role that may create databases) or an embedded one. BENCH_AUDIT_ROWS (default
// 10,000,000) sets the size of the big chain.
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import postgres from "postgres";
import { migrateConsoleDatabase } from "../db/migrate";
import { benchDatabases } from "./lib/databases";
import { canonicalJson, checkpointMessage, entryCanonical, entryLine, EXPORT_FORMAT, GENESIS_HASH, keyIdOf, verifyLines, type EntryFields } from "../server/audit/verifier";

const VERIFY_ENTRIES = Number(process.env.BENCH_VERIFY_ENTRIES ?? 500_000);
const WRITERS = 8;
const PER_WRITER = Number(process.env.BENCH_APPEND_PER_WRITER ?? 500);
const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 10_000_000);
const REQUESTS = Number(process.env.BENCH_SCREEN_REQUESTS ?? 300);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function verificationRate() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
  const chain = "7b0c3a52-9a4e-4c59-8a61-1f2d3c4b5a69";
  const canon: string[] = [];
  const lines = [canonicalJson({ header: { format: EXPORT_FORMAT, chain, tenant: "bench", complete: true, exportedAt: new Date().toISOString(), publicKey: raw.toString("base64") } })];
  const checkpoints: string[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= VERIFY_ENTRIES; seq++) {
    const f: EntryFields = {
      chain,
      seq,
      at: "2026-11-22T10:00:00.123456Z",
      actor: { userId: "5f0c1e7e-3b1a-4d7e-9a51-0c2b3a4d5e6f", name: "Nora Admin", email: "admin@northside.test", roles: ["tenant_admin"] },
      action: seq % 2 ? "result.received" : "retention.update",
      target: `result:${createHash("md5").update(String(seq)).digest("hex")}`,
      reason: seq % 7 ? null : "vendor asked to resend",
      before: seq % 2 ? null : { ttlDays: 7 },
      after: seq % 2 ? { sopInstanceUid: `1.2.826.0.1.3680043.8.498.${seq}`, sizeBytes: 39120 + seq, engineSeq: seq } : { ttlDays: 9 },
      requestId: `req-${seq}`,
      source: seq % 2 ? "engine" : "console",
      prevHash: prev,
    };
    const c = entryCanonical(f);
    const h = createHash("sha256").update(c).digest("hex");
    canon.push(c);
    lines.push(entryLine(c, h));
    if (seq % 1000 === 0) {
      const cp = { chain, seq, hash: h, at: "2026-11-22T10:00:00.000000Z" };
      checkpoints.push(canonicalJson({ checkpoint: { ...cp, keyId: keyIdOf(raw), signature: sign(null, checkpointMessage(cp), privateKey).toString("base64") } }));
    }
    prev = h;
  }
  lines.splice(1, 0, ...checkpoints);
  const bytes = canon.reduce((n, c) => n + Buffer.byteLength(c), 0);
  const rawRates: number[] = [];
  const verifyRates: number[] = [];
  for (let run = 0; run < 3; run++) {
    let t = performance.now();
    for (const c of canon) createHash("sha256").update(c).digest("hex");
    rawRates.push(VERIFY_ENTRIES / ((performance.now() - t) / 1000));
    t = performance.now();
    const report = verifyLines(lines, { trustedKeys: [raw.toString("base64")] });
    verifyRates.push(VERIFY_ENTRIES / ((performance.now() - t) / 1000));
    if (!report.ok) throw new Error(`the benchmark chain did not verify: ${report.firstProblem?.problem}`);
  }
  const [r, v] = [median(rawRates), median(verifyRates)];
  console.log(`\n1. verification, ${fmt(VERIFY_ENTRIES)} entries (${Math.round(bytes / VERIFY_ENTRIES)} bytes each) and ${checkpoints.length} checkpoints, median of 3`);
  console.log(`   raw SHA-256 of the same bytes     ${fmt(r).padStart(10)} entries/s`);
  console.log(`   verifier (hash, links, signatures) ${fmt(v).padStart(9)} entries/s   = ${((v / r) * 100).toFixed(0)}% of raw  (aim ≥ 50% and ≥ 300,000/s)`);
}

async function appendThroughput(dbUrl: string, ownerUrl: string) {
  process.env.DATABASE_URL = dbUrl;
  process.env.AUDIT_SIGNING_KEY ??= randomBytes(32).toString("base64");
  const { createTenant } = await import("../server/tenancy/service");
  const { withTenant } = await import("../server/db");
  const { appendAudit } = await import("../server/audit/append");
  const { systemContext } = await import("../server/context");
  const tenant = await createTenant({ slug: "bench-append", name: "Bench append" });
  const ctx = systemContext(tenant.id, "bench");
  const total = WRITERS * PER_WRITER;

  // Baseline: the same number of one-row transactions into an unchained table, same connection pool.
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  await owner`create table bench_plain (id bigserial primary key, tenant_id uuid, actor jsonb, action text, target text, after jsonb, hash text)`;
  await owner.unsafe(`grant all on bench_plain, bench_plain_id_seq to ${new URL(dbUrl).username}`);
  await owner.end();
  const app = postgres(dbUrl, { max: 10, onnotice: () => {} });
  let t = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < PER_WRITER; i++) {
        await app.begin((tx) => tx`insert into bench_plain (tenant_id, actor, action, target, after, hash) values (${tenant.id}, ${tx.json(ctx.actor)}, 'bench.write', ${`w${w}:${i}`}, ${tx.json({ i })}, ${"0".repeat(64)})`);
      }
    }),
  );
  const plain = total / ((performance.now() - t) / 1000);
  await app.end();

  t = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < PER_WRITER; i++) {
        await withTenant(ctx, (tx) => appendAudit(tx, { tenantId: tenant.id, actor: ctx.actor }, { action: "bench.write", target: `w${w}:${i}`, after: { i } }));
      }
    }),
  );
  const chained = total / ((performance.now() - t) / 1000);
  console.log(`\n2. append, ${WRITERS} concurrent writers × ${fmt(PER_WRITER)} entries, one transaction each`);
  console.log(`   plain INSERT, no chain            ${fmt(plain).padStart(10)} entries/s`);
  console.log(`   audit chain (head lock, hash, RLS) ${fmt(chained).padStart(9)} entries/s   = ${((chained / plain) * 100).toFixed(0)}% of plain`);
}

async function screenAtScale(adminDbUrl: string) {
  const { createTenant } = await import("../server/tenancy/service");
  const { listAuditEntries, tenantChain, AuditFilter } = await import("../server/audit/queries");
  const { systemContext } = await import("../server/context");
  const tenant = await createTenant({ slug: "bench-screen", name: "Bench screen" });
  // The superuser loads synthetic history (the append-only trigger blocks only UPDATE/DELETE/TRUNCATE). The rows
  // look like real ones (actors, actions, targets, payloads); their hashes are not a valid chain: the screen
  // does not read them.
  const su = postgres(adminDbUrl, { max: 1, onnotice: () => {} });
  const base = Date.UTC(2026, 0, 1);
  const chunk = 1_000_000;
  const t0 = performance.now();
  for (let from = 2; from <= ROWS; from += chunk) {
    const to = Math.min(ROWS, from + chunk - 1);
    await su`
      insert into audit_entries (chain, tenant_id, seq, at, actor, action, target, reason, before, after, request_id, source, prev_hash, hash)
      select ${tenant.id}, ${tenant.id}::uuid, g, to_timestamp(${base / 1000} + g * 2.5),
        jsonb_build_object('userId', md5((g % 40)::text), 'name', 'User ' || (g % 40), 'email', 'user' || (g % 40) || '@bench.test', 'roles', jsonb_build_array('tenant_admin')),
        (array['result.received','result.notified','result.pulled','result.acked','retention.update','ae-titles.add','hold-queue.purge','auth.sign_in'])[1 + g % 8],
        'result:' || md5((g % 250000)::text), case when g % 50 = 0 then 'purged on request' end, null,
        jsonb_build_object('sizeBytes', 30000 + g % 5000, 'engineSeq', g), 'req-' || g, case when g % 2 = 0 then 'engine' else 'console' end,
        md5(g::text) || md5((g + 1)::text), md5((g + 1)::text) || md5(g::text)
      from generate_series(${from}::bigint, ${to}::bigint) g`;
    process.stdout.write(`\r   loading ${fmt(to)} / ${fmt(ROWS)} entries`);
  }
  await su`update audit_chain_heads set seq = ${ROWS} where chain = ${tenant.id}`.catch(() => {}); // the head as a real chain would have it
  await su`analyze audit_entries`;
  process.stdout.write(`\r   loaded ${fmt(ROWS)} entries in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);

  const scope = tenantChain({ ...systemContext(tenant.id, "bench"), tenantSlug: "bench-screen" });
  const rnd = (n: number) => 1 + Math.floor(Math.random() * n);
  const kinds: Record<string, () => Promise<unknown>> = {
    "newest page": () => listAuditEntries(scope, {}),
    "deep page (keyset)": () => listAuditEntries(scope, {}, rnd(ROWS)),
    "by action": () => listAuditEntries(scope, AuditFilter.parse({ action: "hold-queue.purge" }), rnd(ROWS)),
    "by actor": () => listAuditEntries(scope, AuditFilter.parse({ actor: `user${rnd(39)}@bench.test` }), rnd(ROWS)),
    "by target": () => listAuditEntries(scope, AuditFilter.parse({ target: `result:${createHash("md5").update(String(rnd(249_999))).digest("hex")}` })),
    "by time range": () => {
      const from = base + rnd(ROWS) * 2500;
      return listAuditEntries(scope, AuditFilter.parse({ from: new Date(from).toISOString(), to: new Date(from + 86_400_000).toISOString() }));
    },
  };
  const all: number[] = [];
  console.log(`\n3. audit screen query at ${fmt(ROWS)} entries in one chain (listAuditEntries, RLS transaction included), ${REQUESTS} requests`);
  for (const [name, run] of Object.entries(kinds)) {
    const times: number[] = [];
    for (let i = 0; i < Math.ceil(REQUESTS / Object.keys(kinds).length); i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    all.push(...times);
    console.log(`   ${name.padEnd(22)} p50 ${pct(times, 50).toFixed(1).padStart(6)} ms   p95 ${pct(times, 95).toFixed(1).padStart(6)} ms`);
  }
  console.log(`   all requests           p50 ${pct(all, 50).toFixed(1).padStart(6)} ms   p95 ${pct(all, 95).toFixed(1).padStart(6)} ms   (aim p95 < 100 ms)`);
  const offsets: number[] = [];
  for (let i = 0; i < 5; i++) {
    const offset = Math.floor(ROWS / 2) + i * 1000;
    const t = performance.now();
    await su`select seq, action from audit_entries where chain = ${tenant.id} order by seq desc offset ${offset} limit 50`;
    offsets.push(performance.now() - t);
  }
  console.log(`   baseline: OFFSET ${fmt(ROWS / 2)} LIMIT 50  median ${median(offsets).toFixed(0)} ms`);
  await su.end();
}

async function main() {
  console.log("audit benchmark");
  verificationRate();

  const urls = await benchDatabases();
  try {
    await migrateConsoleDatabase(urls.consoleOwnerUrl, decodeURIComponent(new URL(urls.consoleAppUrl).username));
    await appendThroughput(urls.consoleAppUrl, urls.consoleOwnerUrl);
    const su = new URL(urls.adminUrl);
    su.pathname = new URL(urls.consoleOwnerUrl).pathname;
    await screenAtScale(su.toString());
  } finally {
    const { closeDb } = await import("../server/db");
    await closeDb();
    await urls.drop();
  }
  process.exit(0);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
