import { tenantHandler } from "@/server/api/handlers";
import { getReport } from "@/server/migrations/reports";

export const dynamic = "force-dynamic";

/** A kept report's PDF (rendered when the report was generated). */
export const GET = tenantHandler("migrations.view", async (req, ctx) => {
  const parts = new URL(req.url).pathname.split("/");
  const [id, reportId] = [parts.at(-4)!, parts.at(-2)!];
  const r = await getReport(ctx, id, reportId);
  if (!r.pdf) return Response.json({ error: "not_found", message: "This report has no PDF." }, { status: 404 });
  return new Response(new Uint8Array(r.pdf), {
    headers: { "content-type": "application/pdf", "content-disposition": `attachment; filename="migration-report-${r.createdAt.toISOString().slice(0, 10)}-${r.id.slice(0, 8)}.pdf"`, "cache-control": "no-store" },
  });
});
