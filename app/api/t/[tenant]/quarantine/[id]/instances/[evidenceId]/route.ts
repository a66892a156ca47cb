import { tenantHandler } from "@/server/api/handlers";
import { evidenceResponse } from "@/server/quarantine/evidence-response";
import { evidenceBytes } from "@/server/quarantine/service";

export const dynamic = "force-dynamic";

/** One evidence instance's Part 10 bytes for the viewer, once the tenant and role are checked. */
export const GET = tenantHandler("quarantine.view", async (req, ctx) => {
  const parts = new URL(req.url).pathname.split("/");
  const [id, evidenceId] = [decodeURIComponent(parts.at(-3) ?? ""), decodeURIComponent(parts.at(-1) ?? "")];
  return evidenceResponse(req, () => evidenceBytes(ctx, id, evidenceId), "application/dicom", "No such evidence instance.");
});
