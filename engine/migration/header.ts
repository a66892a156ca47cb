// The header of an evidence instance as a reviewer reads it: every element (tag, name, VR, value), sequences
// flattened with their path, and the elements that differ between the source and target copies of an instance.
// dicom-parser only records offsets, so a damaged file still yields what was read before the damage, with the
// error saying where it stopped.
import { createHash } from "node:crypto";
import dcmjs from "dcmjs";
import dicomParser from "dicom-parser";

export type HeaderElement = { tag: string; path: string; name: string; vr: string; length: number; value: string; problem?: string };
export type ParsedHeader = { transferSyntaxUid: string | null; elements: HeaderElement[]; error: string | null };

const dictionary = dcmjs.data.DicomMetaDictionary.dictionary;
const TEXT_VRS = new Set(["AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"]);
const NUMBER_READERS: Record<string, [string, number]> = { US: ["uint16", 2], SS: ["int16", 2], UL: ["uint32", 4], SL: ["int32", 4], FL: ["float", 4], FD: ["double", 8] };
const MAX_TEXT = 200;

const tagOf = (key: string) => key.slice(1).toUpperCase();
const nameOf = (tag: string) => {
  if (parseInt(tag.slice(0, 4), 16) % 2 === 1) return "(private)";
  return dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.name ?? "(unknown)";
};
const dictVr = (tag: string) => dictionary[`(${tag.slice(0, 4)},${tag.slice(4)})`]?.vr?.replace(/^ox$/, "OW").replace(/^xs$/, "US") ?? "UN";

/** Defined terms of (0008,0005); anything else is what the character_set category is about. */
const CHARACTER_SET = /^(ISO_IR (6|100|101|109|110|144|127|126|138|148|203|13|166|192)|GB18030|GBK|ISO 2022 IR (6|100|101|109|110|144|127|126|138|148|203|13|166|87|159|149|58))$/;

function valueOf(ds: dicomParser.DataSet, el: dicomParser.Element, vr: string): { value: string; problem?: string } {
  if (el.items) return { value: `sequence of ${el.items.length} item(s)` };
  if (el.fragments) return { value: `encapsulated, ${el.fragments.length} fragment(s), ${el.length === 0xffffffff ? "undefined length" : `${el.length} bytes`}` };
  if (TEXT_VRS.has(vr)) {
    const text = (ds.string(el.tag) ?? "").replace(/\0/g, "");
    return { value: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text };
  }
  const reader = NUMBER_READERS[vr];
  if (reader && el.length <= 64) {
    const n = Math.floor(el.length / reader[1]);
    const read = ds[reader[0] as "uint16"].bind(ds) as (tag: string, i: number) => number | undefined;
    return { value: Array.from({ length: n }, (_, i) => read(el.tag, i)).join("\\") };
  }
  // Binary values: their size and a digest, so two copies can be compared without showing kilobytes of hex.
  const end = Math.min(el.dataOffset + el.length, ds.byteArray.length);
  const digest = createHash("sha256").update(ds.byteArray.subarray(el.dataOffset, end)).digest("hex").slice(0, 16);
  const problem = el.dataOffset + el.length > ds.byteArray.length ? `value runs past the end of the file (${el.length} bytes declared, ${Math.max(0, ds.byteArray.length - el.dataOffset)} present)` : undefined;
  return { value: `${el.length} bytes, sha256 ${digest}…`, problem };
}

function walk(ds: dicomParser.DataSet, prefix: string, out: HeaderElement[]) {
  for (const key of Object.keys(ds.elements).sort()) {
    const el = ds.elements[key]!;
    const tag = tagOf(key);
    const vr = el.vr ?? dictVr(tag);
    const path = prefix ? `${prefix}>${tag}` : tag;
    let v: { value: string; problem?: string };
    try {
      v = valueOf(ds, el, vr);
    } catch (e) {
      v = { value: "", problem: `unreadable: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (tag === "00080005" && v.value) {
      const bad = v.value.split("\\").map((s) => s.trim()).filter((s) => s && !CHARACTER_SET.test(s));
      if (bad.length) v.problem = `not a DICOM character set: ${bad.join(", ")}`;
    }
    out.push({ tag, path, name: nameOf(tag), vr, length: el.length, ...v });
    el.items?.forEach((item, i) => item.dataSet && walk(item.dataSet, `${path}[${i}]`, out));
  }
}

export function parseElements(bytes: Buffer): ParsedHeader {
  let ds: dicomParser.DataSet | undefined;
  let error: string | null = null;
  try {
    ds = dicomParser.parseDicom(bytes);
  } catch (e) {
    const ex = e as { dataSet?: dicomParser.DataSet; exception?: string };
    ds = ex.dataSet;
    error = typeof e === "string" ? e : (ex.exception ?? (e instanceof Error ? e.message : String(e)));
  }
  const elements: HeaderElement[] = [];
  if (ds) walk(ds, "", elements);
  const ts = elements.find((e) => e.tag === "00020010")?.value.trim() || null;
  return { transferSyntaxUid: ts, elements, error: error ?? (ds ? null : "not a DICOM file") };
}

export type ElementDifference = { path: string; tag: string; name: string; vr: string; source: string | null; target: string | null };

/** The elements whose value differs between two copies of an instance (the file meta group is not compared: receivers rewrite it). */
export function diffElements(source: ParsedHeader, target: ParsedHeader): ElementDifference[] {
  const index = (h: ParsedHeader) => new Map(h.elements.filter((e) => !e.tag.startsWith("0002")).map((e) => [e.path, e]));
  const [a, b] = [index(source), index(target)];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths.flatMap((p) => {
    const [x, y] = [a.get(p), b.get(p)];
    if (x && y && x.value === y.value && x.vr === y.vr) return [];
    const e = (x ?? y)!;
    return [{ path: p, tag: e.tag, name: e.name, vr: e.vr, source: x?.value ?? null, target: y?.value ?? null }];
  });
}
