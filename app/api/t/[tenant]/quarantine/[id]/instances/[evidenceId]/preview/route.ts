import { tenantHandler } from "@/server/api/handlers";
import { evidenceResponse } from "@/server/quarantine/evidence-response";
import { evidencePreview } from "@/server/quarantine/service";

export const dynamic = "force-dynamic";

/**
 * A PNG preview of one evidence instance's first frame, rendered by the engine, for the review screen to show
 * before its viewer has loaded; authorized like the instance's bytes beside it. An instance the engine cannot
 * render has no preview (404): the viewer then says why it cannot be decoded.
 */
export const GET = tenantHandler("quarantine.view", async (req, ctx) => {
  const parts = new URL(req.url).pathname.split("/");
  const [id, evidenceId] = [decodeURIComponent(parts.at(-4) ?? ""), decodeURIComponent(parts.at(-2) ?? "")];
  return evidenceResponse(req, () => evidencePreview(ctx, id, evidenceId), "image/png", "No preview of this instance.");
});
