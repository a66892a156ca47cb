// Fault injection for end-to-end tests only: the engine process reads it when ENGINE_TEST_FAULT_FILE names a JSON
// file (never set in production). `flipTargetPixelOnce` lists SOP instance UIDs whose copy retrieved back from the
// target gets one pixel byte flipped, once each: a real hash mismatch through the real pipeline.
import { execFileSync } from "node:child_process";
import { open, readFile } from "node:fs/promises";
import type { MigrationHooks } from "./pipeline";

export function faultHooksFromFile(file: string): MigrationHooks {
  const done = new Set<string>();
  return {
    afterVerifyRetrieve: async (files) => {
      const wanted = await readFile(file, "utf8").then((t) => (JSON.parse(t) as { flipTargetPixelOnce?: string[] }).flipTargetPixelOnce ?? [], () => [] as string[]);
      if (!wanted.length) return;
      for (const f of files) {
        const sop = /\[(.*)\]/.exec(execFileSync("dcmdump", ["+P", "0008,0018", f]).toString())?.[1];
        if (!sop || !wanted.includes(sop) || done.has(sop)) continue;
        done.add(sop);
        await flipPixelByte(f);
      }
    },
  };
}

/** Flips one byte near the end of a file (inside the pixel data of the test images): a real corruption in transit. */
export async function flipPixelByte(file: string) {
  const fh = await open(file, "r+");
  try {
    const { size } = await fh.stat();
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, size - 10);
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, size - 10);
  } finally {
    await fh.close();
  }
}
