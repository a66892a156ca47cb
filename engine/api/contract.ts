// The engine admin API contract: these zod schemas are the source of truth. The engine validates requests and
// serves /openapi.json from them; the console's client (server/engine/client.ts) parses responses with them.
import { z } from "zod";

export const TenantSlug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "lowercase letters, digits and hyphens, 2 to 63 characters, not starting or ending with a hyphen")
  .min(2, "at least 2 characters")
  .meta({ description: "URL-safe tenant identifier", example: "northside" });

/**
 * A DICOM Application Entity title (PS3.5 AE VR): 1..16 characters of the default character repertoire, no
 * backslash, no control characters; leading and trailing spaces are not significant, so they are trimmed.
 */
export const AeTitle = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, "an AE title cannot be empty or only spaces")
      .max(16, "an AE title has at most 16 characters")
      .regex(/^[\x20-\x5b\x5d-\x7e]+$/, "only printable ASCII characters, no backslash and no control characters"),
  )
  .meta({ description: "DICOM AE title", example: "NORTHSIDE" });

const unique = (list: string[]) => new Set(list).size === list.length;

export const TenantConfig = z
  .object({
    ttlDays: z
      .number({ error: "ttlDays must be a whole number of days" })
      .int("ttlDays must be a whole number of days")
      .min(1, "ttlDays must be at least 1 day")
      .max(30, "ttlDays must be at most 30 days"),
    calledAeTitles: z.array(AeTitle).refine(unique, "called AE titles must be unique"),
    allowedCallingAeTitles: z.array(AeTitle).refine(unique, "calling AE titles must be unique"),
    version: z.number().int().min(1, "version starts at 1"),
  })
  .strict()
  .meta({ id: "TenantConfig", description: "A tenant's relay configuration, as desired by the console" });
export type TenantConfig = z.infer<typeof TenantConfig>;

export const AppliedTenantConfig = TenantConfig.extend({
  slug: TenantSlug,
  appliedAt: z.iso.datetime({ offset: true }),
}).meta({ id: "AppliedTenantConfig" });
export type AppliedTenantConfig = z.infer<typeof AppliedTenantConfig>;

export const ApiError = z
  .object({
    error: z.string().meta({ example: "invalid_request" }),
    message: z.string(),
    fields: z.record(z.string(), z.array(z.string())).optional(),
    requestId: z.string().optional(),
  })
  .meta({ id: "ApiError" });
export type ApiError = z.infer<typeof ApiError>;

export const Health = z.object({ status: z.literal("ok"), database: z.literal("ok") }).meta({ id: "Health" });
