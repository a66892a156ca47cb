import "server-only";
import { z } from "zod";

/**
 * Environment, validated per concern on first use so that `next build` (which has no runtime secrets)
 * still works, while a process that needs a variable stops with a message naming it.
 */
function parse<T extends z.ZodRawShape>(shape: T, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid or missing environment variables:\n${lines.join("\n")}`);
  }
  return result.data;
}

const url = z.url();

export const databaseEnv = () => parse({ DATABASE_URL: url });

export const authEnv = () =>
  parse({
    AUTH_SECRET: z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -base64 33`)"),
    AUTH_URL: url.refine((u) => !new URL(u).hostname.startsWith("127."), "use localhost or a host name, not 127.0.0.1"),
    AUTH_OIDC_ISSUER: url,
    AUTH_OIDC_CLIENT_ID: z.string().min(1),
    AUTH_OIDC_CLIENT_SECRET: z.string().min(1),
    AUTH_ENGINEER_GROUP: z.string().min(1).default("vendor-engineers"),
    AUTH_STEP_UP_MAX_AGE_SECONDS: z.coerce.number().int().positive().default(300),
  });

export const engineEnv = () => parse({ ENGINE_ADMIN_URL: url, ENGINE_ADMIN_TOKEN: z.string().min(32) });
