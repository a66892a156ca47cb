import "server-only";
import { EngineUnavailableError } from "../engine/client";

type Streamed = { body: ReadableStream<Uint8Array>; size: number; etag: string | null } | null;

/**
 * An evidence instance's bytes (or its preview) streamed from the engine to the browser, which never reaches the
 * engine itself. Evidence of an attempt never changes, so the browser may keep it privately for a while (304 on a
 * matching ETag); another person's session never shares it.
 */
export async function evidenceResponse(req: Request, load: () => Promise<Streamed>, contentType: string, missing: string) {
  try {
    const found = await load();
    if (!found) return Response.json({ error: "not_found", message: missing }, { status: 404 });
    if (found.etag && req.headers.get("if-none-match") === found.etag) {
      await found.body.cancel();
      return new Response(null, { status: 304, headers: { etag: found.etag } });
    }
    return new Response(found.body, {
      headers: {
        "content-type": contentType,
        ...(found.size ? { "content-length": String(found.size) } : {}),
        ...(found.etag ? { etag: found.etag } : {}),
        "cache-control": "private, max-age=600",
      },
    });
  } catch (e) {
    if (e instanceof EngineUnavailableError) return Response.json({ error: "engine_unreachable", message: e.message }, { status: 503 });
    throw e;
  }
}
