// Retrieving a study from an archive with DCMTK, by C-GET (getscu) or C-MOVE (movescu, which is then the engine's
// own storage SCP for the moved instances), study root: the instances land on disk exactly as the archive sent
// them (bit-preserving), which is what migration hashes at extract and at verification.
import { execFile } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import type { DicomPeer } from "./scu";
import { DicomPeerError } from "./scu";

const UID = /^[0-9.]{1,64}$/;

/** Where C-MOVE sends instances: the AE title the archive knows the engine by, and the port it listens on. */
export type MoveDestination = { aeTitle: string; port: number };

async function retrieve(tool: "getscu" | "movescu", extra: string[], peer: DicomPeer, studyInstanceUid: string, dir: string, timeoutMs: number) {
  if (!UID.test(studyInstanceUid)) throw new DicomPeerError(peer, `"${studyInstanceUid}" is not a study instance UID`);
  await mkdir(dir, { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile(
      tool,
      ["-S", "-k", "QueryRetrieveLevel=STUDY", "-k", `StudyInstanceUID=${studyInstanceUid}`, "-aet", peer.callingAeTitle, "-aec", peer.aeTitle, ...extra, "+B", "-od", dir, peer.host, String(peer.port)],
      // cwd too: movescu's bit-preserving mode writes into the working directory whatever -od says.
      { cwd: dir, env: { ...process.env, TCP_NODELAY: "1" }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, _out, stderr) => {
        if (!err) return resolve();
        const reason = stderr.toString().split("\n").filter((l) => /^[EF]:/.test(l)).join(" ").trim() || err.message;
        reject(new DicomPeerError(peer, `${tool === "getscu" ? "C-GET" : "C-MOVE"} of study ${studyInstanceUid} failed: ${reason}`));
      },
    );
  });
  return (await readdir(dir)).filter((f) => !f.startsWith(".")).map((f) => path.join(dir, f));
}

/** C-GET of one study into `dir`; resolves with the files written. */
export function getStudy(peer: DicomPeer, studyInstanceUid: string, dir: string, timeoutMs = 300_000): Promise<string[]> {
  return retrieve("getscu", [], peer, studyInstanceUid, dir, timeoutMs);
}

// The archive knows one host:port for the engine's move AE title, so C-MOVEs through one port take turns.
const movesOnPort = new Map<number, Promise<unknown>>();

/** C-MOVE of one study to the engine itself (movescu listens on the destination's port meanwhile) into `dir`. */
export function moveStudy(peer: DicomPeer, studyInstanceUid: string, dir: string, to: MoveDestination, timeoutMs = 300_000): Promise<string[]> {
  const previous = movesOnPort.get(to.port) ?? Promise.resolve();
  const mine = previous.catch(() => {}).then(() => retrieve("movescu", ["-aem", to.aeTitle, "+P", String(to.port), "+xa"], peer, studyInstanceUid, dir, timeoutMs));
  movesOnPort.set(to.port, mine);
  return mine;
}
