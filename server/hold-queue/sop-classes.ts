import "server-only";
import dimse from "dcmjs-dimse";

/** Storage SOP class names from the DICOM library's own table ("CtImageStorage" → "CT Image Storage"). */
const NAMES = new Map(
  Object.entries(dimse.constants.StorageClass as Record<string, string>).map(([name, uid]) => [
    uid,
    name.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/\bSr\b/g, "SR").replace(/\bCt\b/g, "CT").replace(/\bMr\b/g, "MR").replace(/\bPet\b/g, "PET"),
  ]),
);

export const sopClassName = (uid: string) => NAMES.get(uid) ?? null;
