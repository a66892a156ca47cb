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
    AUTH_BOOTSTRAP_ENGINEERS: z
      .string()
      .default("")
      .transform((s) => s.split(",").map((e) => e.trim().toLowerCase()).filter(Boolean))
      .pipe(z.array(z.email("AUTH_BOOTSTRAP_ENGINEERS lists e-mail addresses, comma-separated"))),
    AUTH_STEP_UP_MAX_AGE_SECONDS: z.coerce.number().int().positive().default(300),
  });

/** How long an offboarding request waits before its deletion can be confirmed (0 in the e2e suite). */
export const offboardingEnv = () => parse({ OFFBOARDING_WAIT_HOURS: z.coerce.number().min(0).max(720).default(24) });

export const engineEnv = () => parse({ ENGINE_ADMIN_URL: url, ENGINE_ADMIN_TOKEN: z.string().min(32) });

/** The audit checkpoint signing key: an Ed25519 private key, as its 32-byte seed in base64 or as a PKCS#8 PEM. */
export const auditEnv = () =>
  parse({
    AUDIT_SIGNING_KEY: z
      .string()
      .min(1)
      .refine((v) => v.includes("BEGIN PRIVATE KEY") || Buffer.from(v, "base64").length === 32, "must be a 32-byte Ed25519 seed in base64, or a PKCS#8 PEM"),
    AUDIT_CHECKPOINT_MINUTES: z.coerce.number().positive().default(15),
  });

/** Where the engine's DICOM endpoint is, for the AE-title C-ECHO test. */
export const engineDicomEnv = () =>
  parse({
    ENGINE_DICOM_HOST: z.string().min(1).default("127.0.0.1"),
    ENGINE_DICOM_PORT: z.coerce.number().int().min(1).max(65535).default(11112),
  });
