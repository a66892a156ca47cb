import { z } from "zod";

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const EngineEnv = z
  .object({
  ENGINE_DATABASE_URL: z.url(),
  ENGINE_ADMIN_TOKEN: z.string().min(32, "must be at least 32 characters"),
  ENGINE_ADMIN_HOST: z.string().min(1).default("127.0.0.1"),
  ENGINE_ADMIN_PORT: port(7400),
  ENGINE_DICOM_PORT: port(11112),
  ENGINE_GATEWAY_PORT: port(7443),
  /** base64 of 32 random bytes: wraps every tenant's data key. Losing it makes all stored results unrecoverable. */
  ENGINE_MASTER_KEY: z
    .string()
    .refine((v) => Buffer.from(v, "base64").length === 32, "must be 32 random bytes, base64-encoded (`openssl rand -base64 32`)"),
  /** base64 of 32 random bytes: the key of the anonymization profile's keyed-hash pseudonyms (optional; plans that
   * anonymize are refused without it). Changing it changes every pseudonym, so keep it for the life of a migration. */
  ENGINE_PSEUDONYM_KEY: z
    .string()
    .refine((v) => Buffer.from(v, "base64").length >= 32, "must be at least 32 random bytes, base64-encoded (`openssl rand -base64 32`)")
    .optional(),
  /** C-MOVE retrieval: the AE title archives know the engine by, and the port they send moved instances to (0: off) */
  ENGINE_MOVE_AE_TITLE: z.string().regex(/^[\x20-\x5b\x5d-\x7e]{1,16}$/, "1..16 characters, no backslash").default("IMGOPS_MOVE"),
  ENGINE_MOVE_PORT: port(0),
  /** filesystem/DICOMDIR sources: only under <this folder>/<tenant slug>/ (unset: filesystem sources are refused) */
  ENGINE_IMPORT_ROOT: z.string().min(1).optional(),
  /** filesystem (DICOMDIR file-set) targets: only under <this folder>/<tenant slug>/ (unset: filesystem targets are refused) */
  ENGINE_EXPORT_ROOT: z.string().min(1).optional(),
  /** names this engine process among the ones sharing migrations; stable across restarts (default: host and admin port) */
  ENGINE_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, "letters, digits and . _ : -").optional(),
  ENGINE_BLOB_DIR: z.string().min(1).default(".data/blobs"),
  ENGINE_PURGE_INTERVAL_SECONDS: z.coerce.number().positive().default(60),
  ENGINE_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** hosted: many tenants, router CA from ENGINE_CA_*_FILE; self-hosted: one tenant, CA created at first boot */
  ENGINE_MODE: z.enum(["hosted", "self-hosted"]).default("hosted"),
  ENGINE_CA_CERT_FILE: z.string().min(1).optional(),
  ENGINE_CA_KEY_FILE: z.string().min(1).optional(),
  ENGINE_SELF_HOSTED_TENANT: z.string().regex(/^[a-z0-9-]{2,63}$/).optional(),
  ENGINE_GATEWAY_HOST: z.string().min(1).default("0.0.0.0"),
  /** results per notify frame: frames stay small whatever the backlog (engine/router-agent/PROTOCOL.md) */
  ENGINE_RELAY_NOTIFY_PAGE: z.coerce.number().int().min(1).max(5000).default(500),
  /** results offered to one router connection and not yet acked, nacked or refused: the next page waits for room */
  ENGINE_RELAY_NOTIFY_WINDOW: z.coerce.number().int().min(1).max(100_000).default(2000),
  /** a nacked result is offered again after this long, doubling with each further nack up to the maximum */
  ENGINE_RELAY_RETRY_FIRST_MS: z.coerce.number().int().min(1).default(5000),
  ENGINE_RELAY_RETRY_MAX_MS: z.coerce.number().int().min(1).default(300_000),
  /** consecutive nacks after which a result is flagged "delivery failing" (result.delivery_failing, once) */
  ENGINE_RELAY_FAILING_AFTER: z.coerce.number().int().min(1).default(5),
  /** names the gateway's server certificate covers (routers connect to one of them) */
  ENGINE_GATEWAY_HOSTNAMES: z.string().default("localhost,127.0.0.1"),
  /** how long the gateway's server certificate is valid; it is renewed after two thirds of that (tests use a minute) */
  ENGINE_GATEWAY_CERT_LIFETIME_SECONDS: z.coerce.number().int().min(60).default(30 * 86_400),
  /** a router not heard from (no heartbeat) for this long is flagged stale and announced once */
  ENGINE_ROUTER_STALE_SECONDS: z.coerce.number().int().min(30).default(90),
  /** the URL enrolled routers are told to connect to */
  ENGINE_GATEWAY_PUBLIC_URL: z.url().optional(),
  /** self-hosted: the signed licence file (engine/licence); hosted engines need none */
  ENGINE_LICENCE_FILE: z.string().min(1).optional(),
  /** when set, the licence must be issued for this deployment id (catches another site's licence file) */
  ENGINE_DEPLOYMENT_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, "letters, digits and . _ : -").optional(),
  /** development and tests only: trust this licence-signing key (raw Ed25519, base64) instead of the vendor's */
  ENGINE_LICENCE_PUBLIC_KEY: z
    .string()
    .refine((v) => Buffer.from(v, "base64").length === 32, "must be a raw Ed25519 public key, base64 (32 bytes)")
    .optional(),
  NODE_ENV: z.string().optional(),
})
  .superRefine((e, ctx) => {
    if (e.ENGINE_MODE === "hosted" && (!e.ENGINE_CA_CERT_FILE || !e.ENGINE_CA_KEY_FILE))
      for (const path of ["ENGINE_CA_CERT_FILE", "ENGINE_CA_KEY_FILE"] as const)
        if (!e[path]) ctx.addIssue({ code: "custom", path: [path], message: "required in hosted mode (the router CA's certificate and key, PEM)" });
    if (e.ENGINE_MODE === "self-hosted" && !e.ENGINE_SELF_HOSTED_TENANT)
      ctx.addIssue({ code: "custom", path: ["ENGINE_SELF_HOSTED_TENANT"], message: "required in self-hosted mode (the one tenant's slug)" });
    if (e.ENGINE_MODE === "self-hosted" && !e.ENGINE_LICENCE_FILE)
      ctx.addIssue({ code: "custom", path: ["ENGINE_LICENCE_FILE"], message: "required in self-hosted mode (the licence file issued by the vendor)" });
    // A production engine trusts only the built-in vendor key: otherwise anyone could sign their own licence.
    const nodeEnv = e.NODE_ENV ?? process.env.NODE_ENV;
    if (e.ENGINE_LICENCE_PUBLIC_KEY && nodeEnv !== "development" && nodeEnv !== "test")
      ctx.addIssue({ code: "custom", path: ["ENGINE_LICENCE_PUBLIC_KEY"], message: `honoured only when NODE_ENV is development or test (it is ${nodeEnv ?? "unset"}); remove it to use the vendor's key` });
  });
export type EngineConfig = z.infer<typeof EngineEnv>;

/** Validated at start-up: a missing or malformed variable stops the engine with a message naming it. */
export function loadEngineConfig(env: Record<string, string | undefined> = process.env): EngineConfig {
  const r = EngineEnv.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid or missing engine environment variables:\n${lines.join("\n")}`);
  }
  return r.data;
}
