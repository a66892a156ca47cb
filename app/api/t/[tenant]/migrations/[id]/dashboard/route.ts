import { tenantHandler } from "@/server/api/handlers";
import { migrationDashboard } from "@/server/migrations/service";

export const dynamic = "force-dynamic";

/** The dashboard's live poll: with ?since= (the last answer's asOf) only the buckets and events changed after it. */
export const GET = tenantHandler("migrations.view", async (req, ctx) => {
  const url = new URL(req.url);
  const id = url.pathname.split("/").at(-2)!;
  return Response.json(await migrationDashboard(ctx, id, url.searchParams.get("since")), { headers: { "cache-control": "no-store" } });
});
