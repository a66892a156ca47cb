// The "basic" anonymization profile: a documented subset of DICOM PS3.15 Annex E's Basic Application Level
// Confidentiality Profile, with the Retain Longitudinal Temporal Information option (dates kept, so the migrated
// archive stays clinically usable) and keyed-hash pseudonyms instead of blanks for the identifiers a hospital
// must still be able to link: the same patient, accession or UID always maps to the same pseudonym under one key,
// and nobody without the key can reverse or recompute it. The key comes from configuration
// (ENGINE_PSEUDONYM_KEY), never from a plan. docs/migration.md lists every element and its action.
import { createHmac } from "node:crypto";
import type dicomParser from "dicom-parser";

/** Instance UIDs (action U): replaced wherever they occur, nested sequences included, so references stay intact. */
const INSTANCE_UID_TAGS = new Set([
  "0020000D", // Study Instance UID
  "0020000E", // Series Instance UID
  "00080018", // SOP Instance UID
  "00081155", // Referenced SOP Instance UID
  "00200052", // Frame of Reference UID
  "00200200", // Synchronization Frame of Reference UID
  "30060024", // Referenced Frame of Reference UID
  "300600C2", // Related Frame of Reference UID
  "00083010", // Irradiation Event UID
  "00209161", // Concatenation UID
  "00209164", // Dimension Organization UID
  "00080014", // Instance Creator UID
  "00181002", // Device UID
  "00880140", // Storage Media File-set UID
  "0040A124", // UID (structured reports)
  "00400554", // Specimen UID
]);

/** Identifiers replaced by a keyed-hash pseudonym (action D with a consistent dummy). */
const PSEUDONYMS: Record<string, (h: string) => string> = {
  "00100010": (h) => `ANON^${h.slice(0, 12).toUpperCase()}`, // Patient's Name
  "00100020": (h) => `P${h.slice(0, 15).toUpperCase()}`, // Patient ID (LO)
  "00080050": (h) => h.slice(0, 16).toUpperCase(), // Accession Number (SH: 16 characters)
};

/** Emptied (action Z): type 2 elements that must stay present. */
const EMPTIED = ["00100030", "00080090", "00200010", "00100040"]; // birth date, referring physician, study ID, sex

/** Removed (action X). */
const REMOVED = [
  "00080080", "00080081", "00081010", "00081040", "00081048", "00081050", "00081060", "00081070", "00321032",
  "00101000", "00101001", "00101040", "00101060", "00102154", "00102160", "00102180", "001021B0", "00104000",
  "00100032", "00181000", "00081030", "0008103E", "00081120", "00400275", "00380010", "00380300", "00400006",
];

export const DEIDENTIFICATION_METHOD = "IMGOPS basic profile (PS3.15 E.1 subset): keyed-hash pseudonyms, dates retained";

const keyed = (key: Buffer, kind: string, value: string) => createHmac("sha256", key).update(`${kind}\0${value}`).digest();

/** A UID derived from the keyed hash as a 2.25 UUID-style UID (PS3.5 B.2): 128 bits as a decimal integer. */
export function pseudonymUid(key: Buffer, uid: string) {
  const bytes = keyed(key, "uid", uid).subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // a version-8 (custom) UUID, so it can't collide with random ones
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${bytes.toString("hex")}`).toString(10)}`;
}

export function pseudonym(key: Buffer, tag: string, value: string) {
  return PSEUDONYMS[tag]!(keyed(key, tag, value).toString("hex"));
}

const tagArg = (tag: string) => `(${tag.slice(0, 4)},${tag.slice(4)})`;
const tagOf = (key: string) => key.slice(1).toUpperCase();

/** Every instance UID in the dataset with its dcmodify path, nested sequence items included. */
function instanceUids(ds: dicomParser.DataSet, prefix = ""): { path: string; value: string }[] {
  const out: { path: string; value: string }[] = [];
  for (const [key, el] of Object.entries(ds.elements)) {
    const tag = tagOf(key);
    if (el.items) el.items.forEach((item, i) => item.dataSet && out.push(...instanceUids(item.dataSet, `${prefix}${tagArg(tag)}[${i}].`)));
    else if (INSTANCE_UID_TAGS.has(tag)) {
      const value = ds.string(key)?.replace(/\0/g, "").trim();
      if (value) out.push({ path: `${prefix}${tagArg(tag)}`, value });
    }
  }
  return out;
}

/**
 * dcmodify arguments that apply the profile to one instance, plus the source → target UID pairs the migration
 * records. The file meta group follows the dataset (dcmodify updates its SOP instance UID by default).
 */
export function anonymizeArgs(ds: dicomParser.DataSet, key: Buffer) {
  const args: string[] = [];
  const uids = new Map<string, string>();
  for (const { path, value } of instanceUids(ds)) {
    const mapped = pseudonymUid(key, value);
    uids.set(value, mapped);
    args.push("-m", `${path}=${mapped}`);
  }
  for (const tag of Object.keys(PSEUDONYMS)) {
    const value = ds.string(`x${tag.toLowerCase()}`)?.trim();
    if (value) args.push("-m", `${tagArg(tag)}=${pseudonym(key, tag, value)}`);
  }
  for (const tag of EMPTIED) if (ds.elements[`x${tag.toLowerCase()}`]) args.push("-m", `${tagArg(tag)}=`);
  for (const tag of REMOVED) if (ds.elements[`x${tag.toLowerCase()}`]) args.push("-ea", tagArg(tag));
  if (Object.keys(ds.elements).some((k) => parseInt(k.slice(1, 5), 16) % 2 === 1)) args.push("-ep"); // private tags
  args.push("-i", "(0012,0062)=YES", "-i", `(0012,0063)=${DEIDENTIFICATION_METHOD}`);
  return { args, uids };
}
