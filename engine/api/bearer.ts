import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * Service bearer token. Both sides are hashed first so the comparison is constant-time and the token's length
 * does not leak either.
 */
export function requireBearer(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const presented = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      c.header("WWW-Authenticate", 'Bearer realm="engine-admin"');
      return c.json({ error: "unauthorized", message: "A valid service bearer token is required." }, 401);
    }
    await next();
  };
}
