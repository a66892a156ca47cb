import "server-only";
import dcmjs from "dcmjs";
import { z } from "zod";
import { PatchOp } from "@/engine/api/contract";

// A repair patch checked against the DICOM dictionary: the element must exist (or be private), its value must fit
// its VR (PS3.5 6.2), and the patch must not touch what the migration verifies by (UIDs, the file meta group,
// pixel data), which a repair cannot fix and would only hide.
const dictionary = dcmjs.data.DicomMetaDictionary.dictionary;
const PROTECTED = new Set(["0020000D", "0020000E", "00080018", "00080016", "7FE00010"]);

const VR_RULES: Record<string, { max?: number; pattern?: RegExp; hint: string }> = {
  AE: { max: 16, pattern: /^[^\\\x00-\x1f]*$/, hint: "up to 16 characters, no backslash" },
  AS: { pattern: /^\d{3}[DWMY]$/, hint: "nnnD, nnnW, nnnM or nnnY, e.g. 045Y" },
  CS: { max: 16, pattern: /^[A-Z0-9 _\\]*$/, hint: "up to 16 uppercase letters, digits, space or underscore" },
  DA: { pattern: /^(\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))?$/, hint: "a date as YYYYMMDD" },
  DS: { max: 16, pattern: /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/, hint: "a decimal number of up to 16 characters" },
  DT: { max: 26, pattern: /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/, hint: "YYYYMMDDHHMMSS.FFFFFF&ZZXX" },
  IS: { max: 12, pattern: /^\s*[+-]?\d+\s*$/, hint: "an integer of up to 12 characters" },
  LO: { max: 64, pattern: /^[^\\\x00-\x1f]*$/, hint: "up to 64 characters, no backslash" },
  LT: { max: 10240, hint: "up to 10240 characters" },
  PN: { max: 324, pattern: /^[^\x00-\x1f]*$/, hint: "a person name as Family^Given^Middle^Prefix^Suffix" },
  SH: { max: 16, pattern: /^[^\\\x00-\x1f]*$/, hint: "up to 16 characters, no backslash" },
  ST: { max: 1024, hint: "up to 1024 characters" },
  TM: { pattern: /^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$/, hint: "a time as HHMMSS.FFFFFF" },
  UI: { max: 64, pattern: /^[0-9.]*$/, hint: "digits and dots, up to 64 characters" },
  UT: { hint: "text" },
  UC: { hint: "text" },
  US: { pattern: /^\d{1,5}$/, hint: "an unsigned 16-bit integer" },
  UL: { pattern: /^\d{1,10}$/, hint: "an unsigned 32-bit integer" },
  SS: { pattern: /^-?\d{1,5}$/, hint: "a signed 16-bit integer" },
  SL: { pattern: /^-?\d{1,10}$/, hint: "a signed 32-bit integer" },
};

export const RepairPatch = z.array(PatchOp).min(1, "add at least one element to set or remove").max(50, "at most 50 elements");
export type CheckedOp = { op: "set" | "remove"; tag: string; value?: string; name: string; vr: string };

export function describeTag(tag: string) {
  const e = dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`];
  const priv = parseInt(tag.slice(0, 4), 16) % 2 === 1;
  return e ? { name: e.name, vr: e.vr } : priv ? { name: "(private)", vr: "UN" } : null;
}

/** Field errors keyed like the form (`patch.N.value`), and the checked ops with their names and VRs. */
export function checkPatch(input: unknown): { ops: CheckedOp[]; fields: Record<string, string[]> } {
  const parsed = RepairPatch.safeParse(input);
  if (!parsed.success) return { ops: [], fields: Object.fromEntries(parsed.error.issues.map((i) => [["patch", ...i.path].join("."), [i.message]])) };
  const fields: Record<string, string[]> = {};
  const ops = parsed.data.map((p, i) => {
    const d = describeTag(p.tag);
    if (!d) fields[`patch.${i}.tag`] = [`(${p.tag.slice(0, 4)},${p.tag.slice(4)}) is not in the DICOM dictionary`];
    else if (PROTECTED.has(p.tag) || p.tag.startsWith("0002")) fields[`patch.${i}.tag`] = [`${d.name} cannot be repaired by a patch: the migration verifies the study by it`];
    else if (p.op === "set") {
      const rule = VR_RULES[d.vr];
      if (!rule) fields[`patch.${i}.value`] = [`${d.name} has VR ${d.vr}, which a patch cannot set`];
      else {
        const values = (p.value ?? "").split("\\");
        if (values.some((v) => (rule.max !== undefined && v.length > rule.max) || (rule.pattern && !rule.pattern.test(v)))) fields[`patch.${i}.value`] = [`${d.name} (${d.vr}): ${rule.hint}`];
      }
    }
    return { op: p.op, tag: p.tag, value: p.op === "set" ? p.value : undefined, name: d?.name ?? "(unknown)", vr: d?.vr ?? "UN" };
  });
  return { ops, fields };
}

/** What the header will say after the patch: the patched elements before and after. */
export function previewPatch(ops: CheckedOp[], elements: { tag: string; path: string; value: string }[]) {
  return ops.map((o) => {
    const current = elements.find((e) => e.path === o.tag);
    return { tag: o.tag, name: o.name, vr: o.vr, before: current?.value ?? null, after: o.op === "remove" ? null : (o.value ?? "") };
  });
}
