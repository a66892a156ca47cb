// Router enrolment by one-time code: the console asks for a code (admin API), shows it once; the router generates
// its key pair and a CSR on site and presents both to the gateway (POST /enrol), which issues its certificate.
// The engine keeps the code's hash and the certificate, never a private key.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { and, asc, eq, gt, isNull } from "drizzle-orm";
import type { EngineDb } from "../store/db";
import { engineEvents, routerCerts, routerEnrolments } from "../store/schema";
import type { CertificateAuthority } from "./ca";

/** How long a code can be used: a site's IT gets a day to install the router. */
export const ENROLMENT_CODE_HOURS = 24;

/** A code that is unknown, used or expired (one message for all: the code is a secret). */
export class EnrolmentError extends Error {}

// Crockford's base32 without I, L, O, U: read aloud or typed from a screen without mix-ups.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 20 characters (100 bits) in groups of four. */
function newCode() {
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => ALPHABET[b & 31]).join("");
  return chars.match(/.{4}/g)!.join("-");
}

const codeHash = (code: string) => createHash("sha256").update(code.toUpperCase().replace(/[\s-]/g, "")).digest("hex");

export async function createEnrolment(db: EngineDb, slug: string, name: string, now: Date, calledAeTitles: string[] = []) {
  const code = newCode();
  const id = randomUUID();
  const expiresAt = new Date(now.getTime() + ENROLMENT_CODE_HOURS * 3_600_000);
  await db.transaction(async (tx) => {
    await tx.insert(routerEnrolments).values({ id, tenantSlug: slug, name, codeSha256: codeHash(code), createdAt: now, expiresAt, calledAeTitles });
    await tx.insert(engineEvents).values({ tenantSlug: slug, type: "router.enrolment_created", payload: { enrolmentId: id, name, expiresAt: expiresAt.toISOString(), calledAeTitles } });
  });
  return { id, name, code, expiresAt };
}

/** Codes of the tenant still waiting for their router. */
export async function pendingEnrolments(db: EngineDb, slug: string, now: Date) {
  const rows = await db
    .select({ id: routerEnrolments.id, name: routerEnrolments.name, createdAt: routerEnrolments.createdAt, expiresAt: routerEnrolments.expiresAt })
    .from(routerEnrolments)
    .where(and(eq(routerEnrolments.tenantSlug, slug), isNull(routerEnrolments.usedAt), gt(routerEnrolments.expiresAt, now)))
    .orderBy(asc(routerEnrolments.createdAt));
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt.toISOString(), expiresAt: r.expiresAt.toISOString() }));
}

/**
 * Redeems a code with the router's CSR: one transaction marks the code used and records the router and its
 * certificate (a second use of the code, even concurrent, finds it used).
 */
export async function redeemEnrolment(db: EngineDb, ca: CertificateAuthority, code: string, csrPem: string, now: Date) {
  return db.transaction(async (tx) => {
    const [e] = await tx.select().from(routerEnrolments).where(eq(routerEnrolments.codeSha256, codeHash(code))).for("update");
    if (!e || e.usedAt || e.expiresAt <= now) throw new EnrolmentError("the enrolment code is unknown, already used or expired: ask the console for a new one");
    const issued = await ca.issueRouterForCsr(e.tenantSlug, csrPem);
    const id = randomUUID();
    await tx.insert(routerCerts).values({ id, tenantSlug: e.tenantSlug, name: e.name, calledAeTitles: e.calledAeTitles, serial: issued.serial, subject: issued.subject, fingerprint256: issued.fingerprint256, notAfter: issued.notAfter });
    await tx.update(routerEnrolments).set({ usedAt: now, routerId: id }).where(eq(routerEnrolments.id, e.id));
    await tx.insert(engineEvents).values({ tenantSlug: e.tenantSlug, type: "router.enrolled", payload: { routerId: id, name: e.name, serial: issued.serial, enrolmentId: e.id } });
    return { routerId: id, tenant: e.tenantSlug, name: e.name, certificatePem: issued.certPem, caCertificatePem: ca.certPem, notAfter: issued.notAfter.toISOString() };
  });
}

/**
 * A connected router's new certificate for the key of its CSR. The router's row takes the new fingerprint, so the
 * old certificate no longer connects and revoking the router still covers the new one. Null if it was revoked.
 */
export async function renewRouterCertificate(db: EngineDb, ca: CertificateAuthority, tenant: string, routerId: string, csrPem: string) {
  const issued = await ca.issueRouterForCsr(tenant, csrPem);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(routerCerts)
      .set({ serial: issued.serial, fingerprint256: issued.fingerprint256, notAfter: issued.notAfter })
      .where(and(eq(routerCerts.id, routerId), eq(routerCerts.tenantSlug, tenant), isNull(routerCerts.revokedAt)))
      .returning();
    if (!row) return null;
    await tx.insert(engineEvents).values({ tenantSlug: tenant, type: "router.renewed", payload: { routerId, serial: issued.serial, notAfter: issued.notAfter.toISOString() } });
    return { certificatePem: issued.certPem, notAfter: issued.notAfter.toISOString() };
  });
}
