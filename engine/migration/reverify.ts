// Re-verification from the target alone: the recorded instances (all, or a seeded sample) are retrieved again and
// hashed with the pipeline's own rule, and each is named match, mismatch or missing. The auditor's script
// (scripts/migration-reverify.ts) and the closeout's sample check share it.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { VerificationReport } from "../api/contract";
import { wadoStudy } from "../dicom/dicomweb";
import { getStudy } from "../dicom/retrieve";
import { describe } from "./pipeline";

export type Peer = { kind: "dicom"; aeTitle: string; host: string; port: number; callingAeTitle: string } | { kind: "dicomweb"; url: string };

type Planned = { studyInstanceUid: string; targetStudyInstanceUid: string; targetSopInstanceUid: string; expectedSha256: string; targetSha256: string };
export type Result = Planned & { foundSha256: string | null; result: "match" | "mismatch" | "missing" };

/** Every recorded instance, or a seeded sample: ordered by SHA-256(seed, UID), so the same seed picks the same ones. */
export function pick(report: VerificationReport, sample?: { n: number; seed: string }): Planned[] {
  const all = report.studies.flatMap((s) =>
    s.record.instances.map((i) => ({ studyInstanceUid: s.record.studyInstanceUid, targetStudyInstanceUid: s.record.targetStudyInstanceUid, targetSopInstanceUid: i.targetSopInstanceUid, expectedSha256: i.expectedSha256, targetSha256: i.targetSha256 })),
  );
  if (!sample) return all;
  const rank = (p: Planned) => createHash("sha256").update(`${sample.seed}\0${p.targetSopInstanceUid}`).digest("hex");
  return all.map((p) => ({ p, r: rank(p) })).sort((a, b) => (a.r < b.r ? -1 : 1)).slice(0, sample.n).map((x) => x.p);
}

export type Retrieve = (targetStudyInstanceUid: string, dir: string) => Promise<string[]>;

/** An auditor's peer: C-GET from a DICOM archive, or WADO-RS from a DICOMweb one. */
export const fromPeer =
  (peer: Peer): Retrieve =>
  (studyUid, dir) =>
    peer.kind === "dicomweb" ? wadoStudy(peer.url, studyUid, dir) : getStudy(peer, studyUid, dir);

/** Retrieves each study once and hashes what the target holds now. */
export async function reverify(planned: Planned[], retrieve: Retrieve): Promise<Result[]> {
  const results: Result[] = [];
  const byStudy = new Map<string, Planned[]>();
  for (const p of planned) byStudy.set(p.targetStudyInstanceUid, [...(byStudy.get(p.targetStudyInstanceUid) ?? []), p]);
  for (const [studyUid, wanted] of byStudy) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "reverify-"));
    try {
      const files = await retrieve(studyUid, dir);
      const found = new Map<string, string>();
      for (const f of files) {
        const d = await describe(f).catch(() => null); // a file the hash rule cannot read is no proof of anything
        if (d) found.set(d.sopInstanceUid, d.sha256);
      }
      for (const w of wanted) {
        const sha = found.get(w.targetSopInstanceUid) ?? null;
        results.push({ ...w, foundSha256: sha, result: sha === null ? "missing" : sha === w.expectedSha256 && sha === w.targetSha256 ? "match" : "mismatch" });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return results;
}

