import { tenantHandler } from "@/server/api/handlers";
import { EngineUnavailableError } from "@/server/engine/client";
import { evidenceBytes } from "@/server/quarantine/service";

export const dynamic = "force-dynamic";

/**
 * One evidence instance's Part 10 bytes for the viewer, streamed from the engine after the tenant and role are
 * checked (the browser never reaches the engine). Evidence of an attempt never changes, so the browser may keep it
 * privately for a while; another person's session never shares it.
 */
export const GET = tenantHandler("quarantine.view", async (req, ctx) => {
  const parts = new URL(req.url).pathname.split("/");
  const [id, evidenceId] = [decodeURIComponent(parts.at(-3) ?? ""), decodeURIComponent(parts.at(-1) ?? "")];
  try {
    const found = await evidenceBytes(ctx, id, evidenceId);
    if (!found) return Response.json({ error: "not_found", message: "No such evidence instance." }, { status: 404 });
    if (found.etag && req.headers.get("if-none-match") === found.etag) {
      await found.body.cancel();
      return new Response(null, { status: 304, headers: { etag: found.etag } });
    }
    return new Response(found.body, {
      headers: {
        "content-type": "application/dicom",
        ...(found.size ? { "content-length": String(found.size) } : {}),
        ...(found.etag ? { etag: found.etag } : {}),
        "cache-control": "private, max-age=600",
      },
    });
  } catch (e) {
    if (e instanceof EngineUnavailableError) return Response.json({ error: "engine_unreachable", message: e.message }, { status: 503 });
    throw e;
  }
});
