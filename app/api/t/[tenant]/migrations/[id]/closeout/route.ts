import { z } from "zod";
import { tenantHandler } from "@/server/api/handlers";
import { closeout } from "@/server/migrations/closeout";

export const dynamic = "force-dynamic";

const Query = z.object({
  part: z.enum(["verification", "reconciliation"], { error: "part is verification or reconciliation" }),
  format: z.enum(["csv", "json"], { error: "format is csv or json" }),
});

/** Closeout downloads: the verification report (per instance, both hashes) and the reconciliation, CSV or JSON. */
export const GET = tenantHandler("migrations.view", async (req, ctx) => {
  const url = new URL(req.url);
  const id = url.pathname.split("/").at(-2)!;
  const q = Query.parse(Object.fromEntries(url.searchParams));
  const file = await closeout(ctx, id, q.part, q.format);
  return new Response(file.body, {
    headers: { "content-type": file.contentType, "content-disposition": `attachment; filename="${file.fileName}"`, "cache-control": "no-store" },
  });
});
