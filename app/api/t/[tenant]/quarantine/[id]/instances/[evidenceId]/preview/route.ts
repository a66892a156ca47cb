import { tenantHandler } from "@/server/api/handlers";
import { EngineUnavailableError } from "@/server/engine/client";
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
  try {
    const found = await evidencePreview(ctx, id, evidenceId);
    if (!found) return Response.json({ error: "not_found", message: "No preview of this instance." }, { status: 404 });
    if (found.etag && req.headers.get("if-none-match") === found.etag) {
      await found.body.cancel();
      return new Response(null, { status: 304, headers: { etag: found.etag } });
    }
    return new Response(found.body, {
      headers: {
        "content-type": "image/png",
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
