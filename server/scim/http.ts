import "server-only";
// The /scim/v2 route handlers: the bearer token names its tenant and is checked, by its SHA-256, under that tenant's
// row-level security in the same transaction as the operation (so a token revoked meanwhile changes nothing).
// Answers are application/scim+json; errors are in the SCIM error shape (RFC 7644 §3.12).
import { and, eq, isNull } from "drizzle-orm";
import { scimTokens } from "@/db/schema";
import { systemContext } from "../context";
import { withTenant, type Tx } from "../db";
import { SCHEMA, ScimError, type ScimContext } from "./service";
import { sha256, tenantOfToken } from "./tokens";

const scim = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/scim+json", ...headers } });

export const scimError = (status: number, detail: string, scimType?: string) =>
  scim({ schemas: [SCHEMA.error], status: String(status), ...(scimType ? { scimType } : {}), detail }, status, status === 401 ? { "www-authenticate": 'Bearer realm="scim"' } : {});

const unauthorized = () => scimError(401, "A valid SCIM bearer token of this tenant is required.");

async function body(req: Request): Promise<unknown> {
  const text = await req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ScimError(400, "invalidSyntax", "The request body is not JSON.");
  }
}

type Op = (tx: Tx, ctx: ScimContext, req: Request, id: string | undefined) => Promise<Response>;

/** A /scim/v2 handler: token checked, then `op` in the same tenant transaction; ScimErrors answered in shape. */
export function scimHandler(op: Op) {
  return async (req: Request, route?: { params: Promise<Record<string, string>> }) => {
    try {
      const auth = req.headers.get("authorization") ?? "";
      const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
      const tenantId = token ? tenantOfToken(token) : null;
      if (!token || !tenantId) return unauthorized();
      const id = route ? (await route.params).id : undefined;
      const requestId = req.headers.get("x-request-id") ?? crypto.randomUUID();
      const base = `${new URL(req.url).origin}/scim/v2`;
      const result = await withTenant(systemContext(tenantId, "scim"), async (tx) => {
        const [t] = await tx
          .update(scimTokens)
          .set({ lastUsedAt: new Date() })
          .where(and(eq(scimTokens.tokenHash, sha256(token)), eq(scimTokens.tenantId, tenantId), isNull(scimTokens.revokedAt)))
          .returning();
        if (!t) return null;
        const ctx: ScimContext = {
          tenantId,
          token: { id: t.id, name: t.name, defaultRole: t.defaultRole },
          actor: { ...systemContext(tenantId).actor, name: `SCIM (token ${t.name})`, roles: ["scim"] },
          requestId,
          base,
        };
        return op(tx, ctx, req, id);
      });
      return result ?? unauthorized();
    } catch (e) {
      if (e instanceof ScimError) return scimError(e.status, e.message, e.scimType);
      const ref = crypto.randomUUID();
      console.error(`[scim] ${ref}:`, e);
      return scimError(500, `Something went wrong on our side (reference ${ref}).`);
    }
  };
}

export const json = (body: unknown, status = 200) => scim(body, status);
export const readBody = body;
