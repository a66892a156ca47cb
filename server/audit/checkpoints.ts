import "server-only";
import { createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { and, desc, eq, gte, lte } from "drizzle-orm";
import { auditChainHeads, auditCheckpoints } from "@/db/schema";
import { systemContext, type Actor, type TenantContext } from "../context";
import type { Tx } from "../db";
import { withSystem, withTenant } from "../db";
import { auditEnv } from "../env";
import { listAllTenants } from "../tenancy/service";
import { appendAudit } from "./append";
import { checkpointMessage, keyIdOf, type Checkpoint } from "./verifier";

export type AuditSigner = { privateKey: KeyObject; publicKey: string; publicKeyPem: string; keyId: string };

/** The signer for a key given as a base64 32-byte Ed25519 seed or a PKCS#8 PEM. */
export function signerFrom(text: string): AuditSigner {
  const privateKey = text.includes("BEGIN")
    ? createPrivateKey(text)
    : createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(text, "base64")]), format: "der", type: "pkcs8" });
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("AUDIT_SIGNING_KEY must be an Ed25519 key");
  const pub = createPublicKey(privateKey);
  const raw = pub.export({ format: "der", type: "spki" }).subarray(-32);
  return { privateKey, publicKey: raw.toString("base64"), publicKeyPem: pub.export({ format: "pem", type: "spki" }).toString(), keyId: keyIdOf(raw) };
}

let cached: AuditSigner | undefined;
export const auditSigner = () => (cached ??= signerFrom(auditEnv().AUDIT_SIGNING_KEY));

/** UTC with microseconds, the time format the chain uses. */
const nowMicros = () => new Date().toISOString().replace("Z", "000Z");

/**
 * Signs the chain's head in `tx` (whose RLS scope is the chain's) unless it is already signed. Returns the new
 * checkpoint, or null when the head has not moved since the last one.
 */
async function signHead(tx: Tx, chain: string, tenantId: string | null, signer: AuditSigner) {
  const [head] = await tx.select().from(auditChainHeads).where(eq(auditChainHeads.chain, chain));
  if (!head || head.seq === 0) return null;
  const [last] = await tx.select({ seq: auditCheckpoints.seq }).from(auditCheckpoints).where(eq(auditCheckpoints.chain, chain)).orderBy(desc(auditCheckpoints.seq)).limit(1);
  if (last && last.seq >= head.seq) return null;
  const body = { chain, seq: head.seq, hash: head.hash, at: nowMicros() };
  const checkpoint: Checkpoint = { ...body, keyId: signer.keyId, signature: sign(null, checkpointMessage(body), signer.privateKey).toString("base64") };
  await tx.insert(auditCheckpoints).values({ ...checkpoint, tenantId }).onConflictDoNothing();
  return checkpoint;
}

/** The worker's periodic step: a checkpoint for every chain whose head moved since its last one. */
export async function checkpointAllChains(signer = auditSigner()) {
  let signed = 0;
  for (const t of await listAllTenants()) {
    if (await withTenant(systemContext(t.id), (tx) => signHead(tx, t.id, t.id, signer))) signed++;
  }
  if (await withSystem((tx) => signHead(tx, "global", null, signer))) signed++;
  return signed;
}

/** On demand, by a tenant admin: recorded in the chain, and the checkpoint covers that entry too. */
export async function checkpointTenantChain(ctx: TenantContext, signer = auditSigner()) {
  return withTenant(ctx, async (tx) => {
    await appendAudit(tx, { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId }, { action: "audit.checkpoint", target: `tenant:${ctx.tenantSlug}` });
    return signHead(tx, ctx.tenantId, ctx.tenantId, signer);
  });
}

/** On demand, by an engineer, for the global chain. */
export async function checkpointGlobalChain(actor: Actor, requestId: string, signer = auditSigner()) {
  return withSystem(async (tx) => {
    await appendAudit(tx, { tenantId: null, actor, requestId }, { action: "audit.checkpoint", target: "chain:global" });
    return signHead(tx, "global", null, signer);
  });
}

/** The signing key and the chain's latest checkpoint, for the audit screen. */
export async function signingStatus(tx: Tx, chain: string) {
  const signer = auditSigner();
  const [latest] = await tx.select().from(auditCheckpoints).where(eq(auditCheckpoints.chain, chain)).orderBy(desc(auditCheckpoints.seq)).limit(1);
  return { keyId: signer.keyId, publicKey: signer.publicKey, publicKeyPem: signer.publicKeyPem, latest: latest ?? null };
}

/** Checkpoints of a chain, oldest first, optionally within a seq range. */
export function chainCheckpoints(tx: Tx, chain: string, range: { fromSeq?: number; toSeq?: number } = {}) {
  return tx
    .select({
      chain: auditCheckpoints.chain,
      seq: auditCheckpoints.seq,
      hash: auditCheckpoints.hash,
      at: auditCheckpoints.at,
      keyId: auditCheckpoints.keyId,
      signature: auditCheckpoints.signature,
    })
    .from(auditCheckpoints)
    .where(
      and(
        eq(auditCheckpoints.chain, chain),
        range.fromSeq !== undefined ? gte(auditCheckpoints.seq, range.fromSeq) : undefined,
        range.toSeq !== undefined ? lte(auditCheckpoints.seq, range.toSeq) : undefined,
      ),
    )
    .orderBy(auditCheckpoints.seq);
}
