// The plan's tag rules as DCMTK dcmodify edits: one implementation for the migration pipeline and for the preview a
// migration lead sees before saving, so what the preview shows is what the target will receive.
import { execFile } from "node:child_process";
import { open } from "node:fs/promises";
import path from "node:path";
import type { MigrationPlan } from "../api/contract";
import { parseHeader } from "../dicom/part10";
import { anonymizeArgs } from "./anonymize";

/** A rule that could not be applied to a file; the pipeline quarantines the study under `category`. */
export class TransformError extends Error {
  constructor(
    readonly category: "malformed_header" | "transform_error",
    message: string,
    readonly evidence: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type Rule = MigrationPlan["transforms"][number];
export const tagArg = (tag: string) => `(${tag.slice(0, 4)},${tag.slice(4)})`;

/** dcmodify arguments for one file: the rules that apply to its modality, resolved against its own values. */
export function transformArgs(file: string, head: Buffer, rules: Rule[], pseudonymKey: Buffer | undefined): string[] {
  const ds = parseHeader(head);
  if (!ds) throw new TransformError("malformed_header", `${path.basename(file)}: unreadable header, no rule could be applied`);
  const modality = ds.string("x00080060")?.trim() ?? "";
  const args: string[] = [];
  for (const r of rules) {
    if (r.modalities && !r.modalities.includes(modality)) continue;
    if (r.op === "set") args.push("-i", `${tagArg(r.tag)}=${r.value}`);
    else if (r.op === "remove") {
      if (ds.elements[`x${r.tag.toLowerCase()}`]) args.push("-ea", tagArg(r.tag)); // erasing an absent tag is an error to dcmodify
    }
    else if (r.op === "map") {
      const current = ds.string(`x${r.tag.toLowerCase()}`)?.trim();
      if (current !== undefined && current in r.values) args.push("-m", `${tagArg(r.tag)}=${r.values[current]}`);
    } else if (r.op === "remove-private") {
      if (!r.groups && !r.creators) {
        if (Object.keys(ds.elements).some((k) => parseInt(k.slice(1, 5), 16) % 2 === 1)) args.push("-ep");
      }
      else {
        // Private blocks by group, or by their creator's name: (gggg,00xx) names block xx, elements (gggg,xxyy).
        const blocks = new Set<string>();
        for (const key of Object.keys(ds.elements)) {
          const group = parseInt(key.slice(1, 5), 16);
          const element = parseInt(key.slice(5, 9), 16);
          if (group % 2 === 0) continue;
          if (r.groups?.includes(group)) args.push("-ea", tagArg(key.slice(1).toUpperCase()));
          else if (r.creators && element >= 0x10 && element <= 0xff && r.creators.includes(ds.string(key)?.trim() ?? "")) {
            blocks.add(`${key.slice(1, 5)}:${element.toString(16).padStart(2, "0")}`);
            args.push("-ea", tagArg(key.slice(1).toUpperCase()));
          }
        }
        for (const key of Object.keys(ds.elements)) {
          const block = `${key.slice(1, 5)}:${key.slice(5, 7)}`;
          if (blocks.has(block)) args.push("-ea", tagArg(key.slice(1).toUpperCase()));
        }
      }
    } else if (r.op === "anonymize") {
      if (!pseudonymKey) throw new TransformError("transform_error", "the anonymization profile needs ENGINE_PSEUDONYM_KEY, which this engine does not have", { rule: r });
      args.push(...anonymizeArgs(ds, pseudonymKey).args);
    }
  }
  return args;
}

export async function applyTransforms(files: string[], rules: Rule[], pseudonymKey: Buffer | undefined) {
  for (const file of files) {
    const fh = await open(file, "r");
    const head = Buffer.alloc(256 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    await fh.close();
    const args = transformArgs(file, head.subarray(0, bytesRead), rules, pseudonymKey);
    if (!args.length) continue;
    await new Promise<void>((resolve, reject) =>
      execFile("dcmodify", ["-nb", ...args, file], (err, _o, stderr) =>
        err ? reject(new TransformError("transform_error", `${path.basename(file)}: ${String(stderr).trim() || err.message}`, { rules })) : resolve(),
      ),
    );
  }
}
