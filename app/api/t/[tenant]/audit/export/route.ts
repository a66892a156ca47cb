import { tenantHandler } from "@/server/api/handlers";
import { exportResponse } from "@/server/audit/export";
import { tenantChain } from "@/server/audit/queries";

export const dynamic = "force-dynamic";

/** The tenant's chain (or a filtered range of it) as JSON Lines or CSV, streamed. */
export const GET = tenantHandler("audit.view", async (req, ctx) => exportResponse(tenantChain(ctx), new URL(req.url)));
