// Retrieving a study from an archive with DCMTK's getscu (C-GET, study root): the instances land on disk exactly as
// the archive sent them (bit-preserving), which is what migration hashes at extract and at verification.
import { execFile } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import type { DicomPeer } from "./scu";
import { DicomPeerError } from "./scu";

const UID = /^[0-9.]{1,64}$/;

/** C-GET of one study into `dir`; resolves with the files written. */
export async function getStudy(peer: DicomPeer, studyInstanceUid: string, dir: string, timeoutMs = 300_000): Promise<string[]> {
  if (!UID.test(studyInstanceUid)) throw new DicomPeerError(peer, `"${studyInstanceUid}" is not a study instance UID`);
  await mkdir(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile(
      "getscu",
      ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", `StudyInstanceUID=${studyInstanceUid}`, "-aet", peer.callingAeTitle, "-aec", peer.aeTitle, "+B", "-od", dir, peer.host, String(peer.port)],
      { env: { ...process.env, TCP_NODELAY: "1" }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, _out, stderr) => {
        if (!err) return resolve();
        const reason = stderr.toString().split("\n").filter((l) => /^[EF]:/.test(l)).join(" ").trim() || err.message;
        reject(new DicomPeerError(peer, `C-GET of study ${studyInstanceUid} failed: ${reason}`));
      },
    );
  });
  return (await readdir(dir)).filter((f) => !f.startsWith(".")).map((f) => path.join(dir, f));
}
