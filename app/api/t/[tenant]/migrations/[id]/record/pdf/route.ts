import { tenantHandler } from "@/server/api/handlers";
import { signoffHtml } from "@/lib/migrations/signoff-record";
import { renderPdf } from "@/server/migrations/reports";
import { signedRecord } from "@/server/migrations/signoff";

export const dynamic = "force-dynamic";

/** The signed-off migration record as a PDF, rendered from the frozen record. */
export const GET = tenantHandler("migrations.view", async (req, ctx) => {
  const id = new URL(req.url).pathname.split("/").at(-3)!;
  const r = await signedRecord(ctx, id);
  // 409, not 404: the migration exists and the caller may read it; there is no record yet.
  if (!r) return Response.json({ error: "not_signed_off", message: "This migration is not signed off yet: its record is made when someone signs it off." }, { status: 409 });
  const pdf = await renderPdf(signoffHtml(r.record, r.signature));
  return new Response(new Uint8Array(pdf), {
    headers: { "content-type": "application/pdf", "content-disposition": `attachment; filename="migration-record-${id.slice(0, 8)}.pdf"`, "cache-control": "no-store" },
  });
});
