import { z } from "zod";
import { tenantHandler } from "@/server/api/handlers";
import { closeout } from "@/server/migrations/closeout";

export const dynamic = "force-dynamic";

const Query = z.object({
  part: z.enum(["verification", "reconciliation"], { error: "part is verification or reconciliation" }),
  format: z.enum(["csv", "json"], { error: "format is csv or json" }),
  run: z.enum(["0", "1"], { error: "run is 0 or 1" }).default("0"),
});

/** Closeout downloads: the verification report (per instance, the hashes) and the reconciliation (the last run; run=1 runs it again), CSV or JSON. */
export const GET = tenantHandler("migrations.view", async (req, ctx) => {
  const url = new URL(req.url);
  const id = url.pathname.split("/").at(-2)!;
  const q = Query.parse(Object.fromEntries(url.searchParams));
  const file = await closeout(ctx, id, q.part, q.format, q.run === "1");
  return new Response(file.body, {
    headers: { "content-type": file.contentType, "content-disposition": `attachment; filename="${file.fileName}"`, "cache-control": "no-store" },
  });
});
