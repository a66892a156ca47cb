// Held results written straight through the engine's own storage (blob store, keyring, hold-queue group commit),
// as if vendors had sent them while the tenant's router was away: far faster than a C-STORE each. Every one is a
// real DICOM file with a SOP Instance UID of its own, so a router can verify it and a PACS stores each separately.
import { randomInt, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { createHoldQueueWriter } from "../engine/relay/hold-queue-writer";
import { BlobStore } from "../engine/store/blob-store";
import { connectEngineDb } from "../engine/store/db";
import { Keyring } from "../engine/store/keyring";
import { parseMasterKey } from "../engine/store/encryption";

/** The SOP Instance UID in a file's meta header and dataset, replaced by another of the same length (no re-encoding). */
export function withNewSopInstanceUid(part10: Buffer, oldUid: string, n: number) {
  // Under pydicom's UID root, as pydicom's own generated UIDs are.
  const root = "1.2.826.0.1.3680043.8.498.";
  const digits = oldUid.length - root.length;
  const uid = `${root}${randomInt(1, 10)}${String(n).padStart(9, "0")}${Array.from({ length: digits - 10 }, () => randomInt(10)).join("")}`;
  const from = Buffer.from(oldUid, "latin1");
  const to = Buffer.from(uid, "latin1");
  const out = Buffer.from(part10);
  let replaced = 0;
  for (let at = out.indexOf(from); at !== -1; at = out.indexOf(from, at + to.length)) (to.copy(out, at), replaced++);
  if (replaced < 2) throw new Error(`expected the UID in the meta header and the dataset, found it ${replaced} time(s)`);
  return { uid, bytes: out };
}

/** A copy of `file` with a fresh SOP Instance UID, written next to `dir` (for storescu). */
export function writeFreshCopy(file: string, sopInstanceUid: string, dir: string, n: number) {
  const { uid, bytes } = withNewSopInstanceUid(readFileSync(file), sopInstanceUid, n);
  const out = path.join(dir, `fresh-${n}.dcm`);
  writeFileSync(out, bytes);
  return { uid, file: out };
}

export async function holdResults(opts: {
  engineUrl: string;
  blobDir: string;
  masterKey: string;
  tenant: string;
  calledAe: string;
  count: number;
  file: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  modality: string;
}) {
  const { db, close } = connectEngineDb(opts.engineUrl);
  const blobs = new BlobStore(path.resolve(opts.blobDir), () => {});
  const holdQueue = createHoldQueueWriter(db);
  try {
    const dataKey = await new Keyring(db, parseMasterKey(opts.masterKey)).dataKey(opts.tenant);
    const original = readFileSync(opts.file);
    const start = Date.now() - opts.count;
    const one = async (i: number) => {
      const { uid, bytes } = withNewSopInstanceUid(original, opts.sopInstanceUid, i);
      const id = randomUUID();
      const w = blobs.writer(dataKey, opts.tenant, id);
      w.input.end(bytes);
      const { size, sha256 } = await w.done;
      if (sha256 !== createHash("sha256").update(bytes).digest("hex")) throw new Error("blob hash differs from the bytes");
      await holdQueue.record({
        id,
        tenantSlug: opts.tenant,
        callingAe: "VENDOR_AI",
        calledAe: opts.calledAe,
        peerAddress: "127.0.0.1",
        sopClassUid: opts.sopClassUid,
        sopInstanceUid: uid,
        studyInstanceUid: null,
        seriesInstanceUid: null,
        modality: opts.modality,
        transferSyntaxUid: opts.transferSyntaxUid,
        sizeBytes: size,
        sha256,
        blobId: id,
        receivedAt: new Date(start + i), // one millisecond apart, in order, as a backlog built up over time
      });
      return uid;
    };
    const uids: string[] = [];
    for (let i = 0; i < opts.count; i += 64) uids.push(...(await Promise.all(Array.from({ length: Math.min(64, opts.count - i) }, (_, k) => one(i + k)))));
    return uids;
  } finally {
    await holdQueue.close();
    await blobs.close();
    await close();
  }
}
