import { engineerHandler } from "@/server/api/handlers";
import { exportResponse } from "@/server/audit/export";
import { globalChain } from "@/server/audit/queries";

export const dynamic = "force-dynamic";

/** The global chain as JSON Lines or CSV, streamed; engineers only. */
export const GET = engineerHandler(async (req) => exportResponse(globalChain, new URL(req.url)));
