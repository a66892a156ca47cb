// The engine as a DICOM client of a remote archive (a migration source or target): C-ECHO and study-level C-FIND
// with dcmjs-dimse. Every failure becomes a DicomPeerError whose message says which peer and what went wrong.
import dimse from "dcmjs-dimse";

const { Client, requests, constants } = dimse;
const CANCEL = 0xfe00;

export type DicomPeer = { aeTitle: string; host: string; port: number; callingAeTitle: string };

/** What went wrong, for callers that explain it in their own words. */
export type PeerFailure = "unreachable" | "timeout" | "called-ae-unknown" | "rejected" | "failed";

export class DicomPeerError extends Error {
  constructor(
    peer: DicomPeer,
    what: string,
    readonly reason: PeerFailure = "failed",
  ) {
    super(`${peer.aeTitle}@${peer.host}:${peer.port}: ${what}`);
    this.name = "DicomPeerError";
  }
}

type AnyRequest = InstanceType<typeof requests.CEchoRequest> | InstanceType<typeof requests.CFindRequest>;
type Response = { getStatus(): number; getDataset(): { getElements(): Record<string, unknown> } | undefined };

/**
 * One association carrying one request; resolves with the Pending responses' datasets once it succeeds. An archive
 * that stops a C-FIND at its result limit ends it with Cancel (0xFE00, as Orthanc does): `truncated` says so.
 */
function exchange(peer: DicomPeer, request: AnyRequest, timeoutMs: number): Promise<{ found: Record<string, unknown>[]; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const found: Record<string, unknown>[] = [];
    let done = false;
    let truncated = false;
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ found, truncated });
    };
    const timer = setTimeout(() => finish(new DicomPeerError(peer, `no answer within ${timeoutMs / 1000} s`, "timeout")), timeoutMs);
    const client = new Client();
    request.on("response", (r: Response) => {
      const status = r.getStatus();
      if (status === constants.Status.Pending) {
        const ds = r.getDataset();
        if (ds) found.push(ds.getElements());
      } else if (status === constants.Status.Success) finish(null);
      else if (status === CANCEL) {
        truncated = true;
        finish(null);
      }
      else finish(new DicomPeerError(peer, `the request failed with status 0x${status.toString(16)}`));
    });
    client.addRequest(request);
    client.on("associationRejected", (r: { reason?: number }) => {
      const unknownAe = r?.reason === constants.RejectReason.CalledAeNotRecognized;
      finish(new DicomPeerError(peer, `association rejected (${unknownAe ? "called AE title not recognized" : `reason ${r?.reason ?? "?"}`})`, unknownAe ? "called-ae-unknown" : "rejected"));
    });
    client.on("networkError", (e: Error) => finish(new DicomPeerError(peer, `unreachable (${e.message})`, "unreachable")));
    client.on("closed", () => finish(new DicomPeerError(peer, "the association closed before an answer")));
    client.send(peer.host, peer.port, peer.callingAeTitle, peer.aeTitle, { connectTimeout: timeoutMs } as never);
  });
}

/** The connection test: throws a DicomPeerError naming the peer when it cannot be reached or refuses us. */
export async function echo(peer: DicomPeer, timeoutMs = 5000) {
  await exchange(peer, new requests.CEchoRequest(), timeoutMs);
}

export type StudyMatch = { studyInstanceUid: string; studyDate: string | null; modalities: string[]; patientId: string | null; instances: number | null };
export type FindResult = { matches: StudyMatch[]; truncated: boolean };

/** Study-level C-FIND; `query` holds matching keys in DICOM keyword form (StudyDate: "20240101-20240131", ...). */
export async function findStudies(peer: DicomPeer, query: Record<string, string>, timeoutMs = 30_000): Promise<FindResult> {
  const { found, truncated } = await exchange(peer, requests.CFindRequest.createStudyFindRequest(query), timeoutMs);
  const matches = found.flatMap((e) => {
    const uid = typeof e.StudyInstanceUID === "string" ? e.StudyInstanceUID.trim() : "";
    if (!uid) return []; // a match without a study UID cannot be migrated; the archive is answering garbage
    const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : null);
    const modalities = Array.isArray(e.ModalitiesInStudy) ? e.ModalitiesInStudy : typeof e.ModalitiesInStudy === "string" ? e.ModalitiesInStudy.split("\\") : [];
    const n = Number(e.NumberOfStudyRelatedInstances);
    return [{ studyInstanceUid: uid, studyDate: text(e.StudyDate), modalities: modalities.map(String).filter(Boolean), patientId: text(e.PatientID), instances: Number.isFinite(n) && n > 0 ? n : null }];
  });
  return { matches, truncated };
}

/** SERIES-level C-FIND within one study: each series with the instance count the archive reports for it (null if none). */
export async function findSeries(peer: DicomPeer, studyInstanceUid: string, timeoutMs = 30_000): Promise<{ seriesInstanceUid: string; instances: number | null }[]> {
  const { found } = await exchange(peer, requests.CFindRequest.createSeriesFindRequest({ StudyInstanceUID: studyInstanceUid, SeriesInstanceUID: "", NumberOfSeriesRelatedInstances: "" }), timeoutMs);
  return found.flatMap((e) => {
    const uid = typeof e.SeriesInstanceUID === "string" ? e.SeriesInstanceUID.trim() : "";
    const n = Number(e.NumberOfSeriesRelatedInstances);
    return uid ? [{ seriesInstanceUid: uid, instances: Number.isFinite(n) && n > 0 ? n : null }] : [];
  });
}

/** IMAGE-level C-FIND within one study: the SOP Instance UIDs the archive holds for it now. */
export async function findInstances(peer: DicomPeer, studyInstanceUid: string, timeoutMs = 30_000): Promise<string[]> {
  const { found } = await exchange(peer, requests.CFindRequest.createImageFindRequest({ StudyInstanceUID: studyInstanceUid, SeriesInstanceUID: "", SOPInstanceUID: "" }), timeoutMs);
  return found.flatMap((e) => (typeof e.SOPInstanceUID === "string" && e.SOPInstanceUID.trim() ? [e.SOPInstanceUID.trim()] : []));
}
