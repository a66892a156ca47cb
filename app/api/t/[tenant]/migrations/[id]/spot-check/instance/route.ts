import { tenantHandler } from "@/server/api/handlers";
import { spotCheckInstanceBytes } from "@/server/migrations/spot-check";
import { evidenceResponse } from "@/server/quarantine/evidence-response";

export const dynamic = "force-dynamic";

/** One instance of a spot-checked study as the target holds it (?study=&sop=), for the viewer. */
export const GET = tenantHandler("migrations.view", async (req, ctx) => {
  const url = new URL(req.url);
  const id = url.pathname.split("/").at(-3)!;
  const [study, sop] = [url.searchParams.get("study") ?? "", url.searchParams.get("sop") ?? ""];
  // 409, not 404: the caller may read the migration; the instance is just not one of its spot-checked studies.
  const r = await evidenceResponse(req, () => spotCheckInstanceBytes(ctx, id, study, sop), "application/dicom", "");
  return r.status === 404 ? Response.json({ error: "not_on_list", message: "That instance is not of a study on this migration's spot-check list." }, { status: 409 }) : r;
});
