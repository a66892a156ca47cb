import { tenantHandler } from "@/server/api/handlers";
import { tryEngine } from "@/server/engine/client";
import { HoldQueueSearch, listHoldQueue } from "@/server/hold-queue/service";
import { InputError } from "@/server/errors";
import { z } from "zod";

export const dynamic = "force-dynamic";

/** A page of the hold queue as JSON (the table's live refresh, and scripts). */
export const GET = tenantHandler("hold-queue.view", async (req, ctx) => {
  const parsed = HoldQueueSearch.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!parsed.success) throw new InputError("The hold queue's filters are not valid.", z.flattenError(parsed.error).fieldErrors as Record<string, string[]>);
  const page = await tryEngine(() => listHoldQueue(ctx, parsed.data));
  if (!page.ok) return Response.json({ error: "engine_unreachable", message: page.message }, { status: 503 });
  return Response.json(page.value, { headers: { "cache-control": "no-store" } });
});
