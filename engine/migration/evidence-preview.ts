// A preview of an evidence instance as a PNG (DCMTK's dcmj2pnm), for the review screen to show before its viewer
// has loaded: the first frame, windowed with the file's first VOI window or, without one, min-max. Evidence ids
// never change content (a new quarantine writes new ids), so a render is cached per id, failures included: an
// instance dcmj2pnm cannot render has no preview, and the viewer says why it cannot be decoded.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseHeader } from "../dicom/part10";

const CACHE_BYTES = 64 * 2 ** 20;
const cache = new Map<string, Promise<Buffer | null>>();
const sizes = new Map<string, number>();
let cachedBytes = 0;

/** dcmj2pnm ran out of time: not a property of the file (a busy machine), so not remembered as "no preview". */
export class PreviewTimeoutError extends Error {}

function dcmj2pnm(args: string[]) {
  return new Promise<void>((resolve, reject) =>
    execFile("dcmj2pnm", args, { timeout: 20_000 }, (err, _o, stderr) =>
      err ? reject(err.killed ? new PreviewTimeoutError("dcmj2pnm timed out") : new Error(stderr.trim() || err.message)) : resolve(),
    ),
  );
}

/** Renders the first frame of a Part 10 file as an 8-bit PNG; null when dcmj2pnm cannot (unsupported or corrupt pixel data). */
export async function renderPreview(part10: Buffer): Promise<Buffer | null> {
  const ds = parseHeader(part10.subarray(0, Math.min(part10.length, 256 * 1024)));
  let hasWindow = false;
  try {
    hasWindow = !!ds?.string("x00281050")?.trim() && !!ds?.string("x00281051")?.trim();
  } catch {
    // an unreadable window element: compute one
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), "evidence-preview-"));
  try {
    const input = path.join(dir, "in.dcm");
    const output = path.join(dir, "out.png");
    await writeFile(input, part10);
    // Non-interlaced: smaller and quicker to decode in the browser, which paints it in one pass anyway.
    const common = ["-q", "+on", "-il", "+F", "1"];
    try {
      await dcmj2pnm([...common, hasWindow ? "+Wi" : "+Wm", ...(hasWindow ? ["1"] : []), input, output]);
    } catch (e) {
      if (!hasWindow || e instanceof PreviewTimeoutError) throw e;
      await dcmj2pnm([...common, "+Wm", input, output]);
    }
    return await readFile(output);
  } catch (e) {
    if (e instanceof PreviewTimeoutError) throw e;
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The preview of one evidence instance, rendered once; concurrent callers share the render. */
export function evidencePreview(evidenceId: string, read: () => Promise<Buffer>): Promise<Buffer | null> {
  const hit = cache.get(evidenceId);
  if (hit) {
    // most recently used last
    cache.delete(evidenceId);
    cache.set(evidenceId, hit);
    return hit;
  }
  const p = read()
    .then(renderPreview)
    .then((png) => {
      sizes.set(evidenceId, png?.length ?? 0);
      cachedBytes += png?.length ?? 0;
      // Evict the least recently used renders (those finished) until the cache fits.
      for (const k of cache.keys()) {
        if (cachedBytes <= CACHE_BYTES) break;
        const size = sizes.get(k);
        if (size === undefined || k === evidenceId) continue;
        cache.delete(k);
        sizes.delete(k);
        cachedBytes -= size;
      }
      return png;
    });
  // A failure to read the blob or a timeout is not cached (either may be transient); a failure to render is (the
  // bytes never change).
  p.catch(() => cache.delete(evidenceId));
  cache.set(evidenceId, p);
  return p;
}
