// Fetches a study's instances for the viewer: the first at once (it is what the reviewer sees first), the rest a
// few at a time behind it. Each instance's bytes are read once, its frames counted from its header, and handed to
// the loader's in-memory file manager, so scrolling never waits on the network.
import dicomParser from "dicom-parser";

export type StackInstance = { id: string; url: string; label: string };
export type LoadedInstance = { index: number; bytes: ArrayBuffer; frames: number } | { index: number; error: string };

const PARALLEL = 6;

function frameCount(bytes: ArrayBuffer) {
  try {
    const ds = dicomParser.parseDicom(new Uint8Array(bytes), { untilTag: "x7fe00010" });
    return Math.max(1, Number(ds.string("x00280008") ?? 1) || 1);
  } catch {
    return 1; // the loader reports what it cannot read when the frame is drawn
  }
}

async function fetchOne(inst: StackInstance, index: number): Promise<LoadedInstance> {
  try {
    const res = await fetch(inst.url, { credentials: "same-origin" });
    if (!res.ok) return { index, error: `the console answered HTTP ${res.status}` };
    const bytes = await res.arrayBuffer();
    return { index, bytes, frames: frameCount(bytes) };
  } catch (e) {
    return { index, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Calls `onFirst` as soon as the first instance is here, then `onRest` once with all the others (in order). */
export function loadStack(instances: StackInstance[], onFirst: (first: LoadedInstance) => void, onRest: (rest: LoadedInstance[]) => void) {
  if (!instances.length) return;
  const first = fetchOne(instances[0]!, 0);
  void first.then(onFirst);
  const rest = instances.slice(1);
  const out: LoadedInstance[] = new Array(rest.length);
  let next = 0;
  const worker = async () => {
    while (next < rest.length) {
      const i = next++;
      out[i] = await fetchOne(rest[i]!, i + 1);
    }
  };
  // The rest wait for the first, so they do not compete with it for the connection.
  void first.then(() => Promise.all(Array.from({ length: Math.min(PARALLEL, rest.length) }, worker))).then(() => onRest(out));
}
