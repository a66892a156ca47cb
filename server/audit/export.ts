import "server-only";
import { and, asc, eq, gt, lte, max } from "drizzle-orm";
import { z } from "zod";
import { auditEntries } from "@/db/schema";
import { InputError } from "../errors";
import { auditSigner, chainCheckpoints } from "./checkpoints";
import { AuditFilter, entryColumns, filterConditions, isUnfiltered, readChain, seqRangeOf, type AuditRow, type ChainScope } from "./queries";
import { canonicalJson, createVerifier, entryCanonical, entryLine, EXPORT_FORMAT, type Checkpoint, type Header } from "./verifier";

const BATCH = 5000;

export type ExportFormat = "jsonl" | "csv";

/**
 * The chain's entries (filtered or not) up to its head when the export starts, in seq order, in batches. Entries
 * never change, so batches read in separate transactions still make one consistent export.
 */
async function* entriesOf(scope: ChainScope, filter: AuditFilter, toSeq: number) {
  const range = await readChain(scope, (tx) => seqRangeOf(tx, scope.chain, filter));
  if (!range) return;
  let after = 0;
  for (;;) {
    const rows = (await readChain(scope, (tx) =>
      tx
        .select(entryColumns)
        .from(auditEntries)
        .where(and(filterConditions(scope.chain, filter, range), gt(auditEntries.seq, after), lte(auditEntries.seq, toSeq)))
        .orderBy(asc(auditEntries.seq))
        .limit(BATCH),
    )) as AuditRow[];
    yield* rows;
    if (rows.length < BATCH) return;
    after = rows[rows.length - 1]!.seq;
  }
}

async function exportStart(scope: ChainScope) {
  return readChain(scope, async (tx) => {
    const [head] = await tx.select({ seq: max(auditEntries.seq) }).from(auditEntries).where(eq(auditEntries.chain, scope.chain));
    const toSeq = Number(head?.seq ?? 0);
    return { toSeq, checkpoints: (await chainCheckpoints(tx, scope.chain, { toSeq })) as Checkpoint[] };
  });
}

const entryFields = (scope: ChainScope, r: AuditRow) => ({ chain: scope.chain, ...r });

/** JSON Lines in the format docs/audit-format.md describes and `npm run audit:verify` checks. */
export async function* exportJsonLines(scope: ChainScope, filter: AuditFilter): AsyncGenerator<string> {
  const { toSeq, checkpoints } = await exportStart(scope);
  const header: Header = {
    format: EXPORT_FORMAT,
    chain: scope.chain,
    tenant: scope.tenantSlug,
    complete: isUnfiltered(filter),
    exportedAt: new Date().toISOString(),
    publicKey: auditSigner().publicKey,
    filter: isUnfiltered(filter) ? null : filter,
  };
  yield `${canonicalJson({ header })}\n`;
  for (const c of checkpoints) yield `${canonicalJson({ checkpoint: c })}\n`;
  for await (const r of entriesOf(scope, filter, toSeq)) {
    const { hash, ...fields } = entryFields(scope, r);
    yield `${entryLine(entryCanonical(fields), hash)}\n`;
  }
}

const CSV_COLUMNS = [
  "record", "chain", "seq", "at", "actor_user_id", "actor_name", "actor_email", "actor_roles", "grant_id", "action", "target",
  "reason", "before", "after", "request_id", "source", "prev_hash", "hash", "key_id", "signature",
] as const;

/** A CSV cell: quoted when needed, and never read as a formula by a spreadsheet. */
function cell(v: unknown): string {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
const row = (values: Partial<Record<(typeof CSV_COLUMNS)[number], unknown>>) => `${CSV_COLUMNS.map((c) => cell(values[c])).join(",")}\r\n`;

/** CSV for reading in a spreadsheet: the same entries and checkpoints with their hashes (verify the JSON Lines). */
export async function* exportCsv(scope: ChainScope, filter: AuditFilter): AsyncGenerator<string> {
  const { toSeq, checkpoints } = await exportStart(scope);
  yield `${CSV_COLUMNS.join(",")}\r\n`;
  for (const c of checkpoints) yield row({ record: "checkpoint", chain: c.chain, seq: c.seq, at: c.at, hash: c.hash, key_id: c.keyId, signature: c.signature });
  for await (const r of entriesOf(scope, filter, toSeq)) {
    const a = r.actor as { userId?: string; name?: string; email?: string; roles?: string[]; grantId?: string; system?: string };
    yield row({
      record: "entry",
      chain: scope.chain,
      seq: r.seq,
      at: r.at,
      actor_user_id: a.userId,
      actor_name: a.name ?? a.system,
      actor_email: a.email,
      actor_roles: a.roles?.join(" "),
      grant_id: a.grantId,
      action: r.action,
      target: r.target,
      reason: r.reason,
      before: r.before,
      after: r.after,
      request_id: r.requestId,
      source: r.source,
      prev_hash: r.prevHash,
      hash: r.hash,
    });
  }
}

/** The console's Verify: the chain as exported, through the same verifier an auditor runs. */
export async function verifyChain(scope: ChainScope) {
  const v = createVerifier({ trustedKeys: [auditSigner().publicKey] });
  for await (const chunk of exportJsonLines(scope, {})) {
    v.line(chunk.slice(0, -1));
    if (v.failed) break;
  }
  return v.finish();
}

const ExportQuery = z.object({ format: z.enum(["jsonl", "csv"], { error: "format must be jsonl or csv" }).default("jsonl") });

/**
 * The HTTP response of an export: the filters and format from the URL (a bad one is an InputError naming the
 * field), streamed as it is read, with a file name that says which chain and when.
 */
export function exportResponse(scope: ChainScope, url: URL) {
  const params = Object.fromEntries(url.searchParams);
  const parsed = ExportQuery.and(AuditFilter).safeParse(params);
  if (!parsed.success) throw new InputError("The export's filters are not valid.", z.flattenError(parsed.error).fieldErrors as Record<string, string[]>);
  const { format, ...filter } = parsed.data;
  const lines = format === "csv" ? exportCsv(scope, filter) : exportJsonLines(scope, filter);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await lines.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
  const name = `audit-${scope.tenantSlug ?? "global"}-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.${format}`;
  return new Response(body, {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8",
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
    },
  });
}
