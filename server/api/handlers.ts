import "server-only";
import { auth } from "../auth";
import { findTenantContext } from "../auth/session";
import { rolesFor, type Permission } from "../auth/permissions";
import type { TenantContext } from "../context";
import { ForbiddenError, InputError, NotFoundError } from "../errors";
import { z } from "zod";
import { EngineError, EngineUnavailableError } from "../engine/client";

type RouteArgs = { params: Promise<{ tenant: string }> };

const problem = (status: number, error: string, message: string, fields?: Record<string, string[]>) =>
  Response.json({ error, message, ...(fields ? { fields } : {}) }, { status });

/** Errors a person can act on become 4xx with their message; anything else is logged and a generic 500. */
async function guarded(fn: () => Promise<Response>) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof InputError) return problem(400, "invalid_input", e.message, e.fields);
    if (e instanceof ForbiddenError) return problem(403, "forbidden", e.message);
    if (e instanceof NotFoundError) return problem(404, "not_found", e.message);
    if (e instanceof z.ZodError) return problem(400, "invalid_input", e.issues[0]?.message ?? "Invalid input.", z.flattenError(e).fieldErrors as Record<string, string[]>);
    if (e instanceof EngineUnavailableError) return problem(503, "engine_unavailable", "The engine is unreachable right now. Try again shortly.");
    if (e instanceof EngineError && e.status === 404) return problem(404, "not_found", e.message);
    const id = crypto.randomUUID();
    console.error(`[api] ${id}:`, e);
    return problem(500, "internal", `Something went wrong on our side (reference ${id}).`);
  }
}

/** A route handler under /api/t/[tenant]: signed in, a member with `permission`, else 401/404 (no tenant leak). */
export function tenantHandler(permission: Permission, fn: (req: Request, ctx: TenantContext) => Promise<Response>) {
  return (req: Request, { params }: RouteArgs) =>
    guarded(async () => {
      const session = await auth();
      if (!session?.user?.id) return problem(401, "unauthenticated", "Sign in first.");
      const url = new URL(req.url);
      const ctx = await findTenantContext(session.user, (await params).tenant, rolesFor(permission), `${req.method} ${url.pathname}${url.search}`);
      if (!ctx) return problem(404, "not_found", "No such tenant.");
      return fn(req, ctx);
    });
}

/** A route handler under /api/ops: engineers only (404 for anyone else). */
export function engineerHandler<P extends Record<string, string> = Record<string, never>>(
  fn: (req: Request, engineer: { id: string; name: string; email: string }, params: P) => Promise<Response>,
) {
  return (req: Request, route?: { params: Promise<P> }) =>
    guarded(async () => {
      const session = await auth();
      if (!session?.user?.id) return problem(401, "unauthenticated", "Sign in first.");
      if (!session.user.isEngineer) return problem(404, "not_found", "Not found.");
      const { id, name, email } = session.user;
      return fn(req, { id, name: name ?? email ?? "", email: email ?? "" }, ((await route?.params) ?? {}) as P);
    });
}
