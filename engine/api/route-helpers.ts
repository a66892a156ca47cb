// Shared pieces of the admin API's route definitions.
import { z } from "zod";
import { ApiError, TenantSlug } from "./contract";

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });
export const errors = {
  400: json(ApiError, "The request is invalid; `fields` names what to fix"),
  401: json(ApiError, "Missing or wrong bearer token"),
};
export const SlugParams = z.object({ slug: TenantSlug.meta({ param: { name: "slug", in: "path" } }) });
