// The relay's DICOM endpoint: C-ECHO and C-STORE for vendors. The tenant is the one whose called AE title the
// association names; each instance goes (Part 10 framed, encrypted) into the blob store, a large one streamed
// without being held in memory, and becomes a held result (relay/ingest.ts); its C-STORE is confirmed once its
// bytes are durably stored, and the association's release once its results are recorded.
import type { Socket } from "node:net";
import { Writable } from "node:stream";
import dimse from "dcmjs-dimse";
import type { BlobStore, NewBlobWriter } from "../store/blob-store";
import type { Keyring } from "../store/keyring";
import { cStoreResponseCommand, commandPdu, installFastCommandReader } from "./dimse-wire";
import { fileMetaHeader, readHeaderFields, type HeaderFields } from "./part10";

const { Scp, Server, Dataset, constants, responses, log } = dimse;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CEchoResponseT = InstanceType<typeof dimse.responses.CEchoResponse>;
type CStoreResponseT = InstanceType<typeof dimse.responses.CStoreResponse>;
type DatasetT = InstanceType<typeof dimse.Dataset>;
const { PresentationContextResult, RejectReason, RejectResult, RejectSource, SopClass, Status, StorageClass } = constants;
const { CEchoResponse, CStoreResponse } = responses;

log.setLevel("warn");
installFastCommandReader();

const STORAGE_CLASSES = new Set<string>(Object.values(StorageClass));
/** Standard storage SOP classes, including ones newer than the library's list. */
const isStorageClass = (uid: string) => STORAGE_CLASSES.has(uid) || uid.startsWith("1.2.840.10008.5.1.4.1.1.");
/** Enough of the dataset's start to hold the header elements we index (pixel data comes last). */
const HEADER_PREFIX_BYTES = 256 * 1024;
/**
 * While this little has arrived, the header is read as chunks come (the engine waits for the network then), so
 * the end of the instance does not wait for it; past it, once, at the end.
 */
const EARLY_HEADER_BYTES = 64 * 1024;

/** How long an association waits at most for its tenant's first segment to be made. */
const SEGMENT_WAIT_MS = 2000;

export type TenantRoute = {
  slug: string;
  allowedCallingAeTitles: string[];
  /** private storage SOP classes accepted besides the standard ones */
  privateSopClasses?: string[];
  /** while set, the tenant's called AE titles are refused at association (nothing held is touched) */
  suspended?: { since: Date; reason: string } | null;
};

export type StoredInstance = {
  id: string;
  /** where the bytes are (BlobStore.newBlob) */
  blobId: string;
  tenantSlug: string;
  callingAe: string;
  calledAe: string;
  peerAddress: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sizeBytes: number;
  sha256: string;
  header: HeaderFields;
  /** when the last byte arrived (the engine's clock) */
  receivedAt: Date;
  /**
   * Every byte has been received and hashed when onStored is called; this resolves once the blob is durable
   * (written, fsynced, in place), or rejects. onStored may record the row meanwhile, and must not resolve before
   * this has.
   */
  durable: Promise<void>;
  /**
   * The blob went with its record (the fields of StoredRecord, see BlobStore.newBlob): once durable, it is found
   * again after a crash even if its row never committed, so its C-STORE need not wait for the row.
   */
  recoverable: boolean;
};

/** What a small blob keeps with it for recovery (BlobStore.setRecord): enough to record it again. */
export type StoredRecord = Omit<StoredInstance, "blobId" | "sizeBytes" | "sha256" | "header" | "receivedAt" | "durable" | "recoverable"> &
  HeaderFields & { receivedAt: string };

export type ScpDeps = {
  /** The tenant that owns a called AE title, or null. */
  route: (calledAe: string) => Promise<TenantRoute | null>;
  keyring: Keyring;
  blobs: BlobStore;
  /**
   * Records the stored instance as a held result, resolving once the C-STORE can be confirmed: the blob is durable
   * and its row has committed, or (recoverable) will commit, as `recorded` says; a throw makes the C-STORE fail
   * (and the blob is removed), and must leave no result behind.
   */
  onStored: (instance: StoredInstance) => Promise<{ recorded: Promise<void> }>;
  now: () => Date;
  log: (m: string) => void;
  /** Why new associations are refused now (an expired or refused licence), or null. Results held already are not affected. */
  refusal?: () => string | null;
};

/** How long an association's release waits at most for its results' rows to commit (they are confirmed already). */
const RELEASE_WAIT_MS = 10_000;

type Pending = {
  writerReady: Promise<NewBlobWriter>;
  instance: Omit<StoredInstance, "id" | "blobId" | "sizeBytes" | "sha256" | "header" | "receivedAt" | "durable" | "recoverable">;
  prefix: Buffer[];
  prefixBytes: number;
  /** read while the instance arrived, once the prefix held every element */
  header: HeaderFields | null;
  presentationContextId: number;
  /** settles once the instance is recorded or given up (its segment is kept open until then) */
  recorded: { promise: Promise<void>; settle: () => void };
};

function settleable() {
  let settle!: () => void;
  const promise = new Promise<void>((resolve) => (settle = resolve));
  return { promise, settle };
}

export function createDicomServer(deps: ScpDeps) {
  class RelayScp extends Scp {
    private tenant: TenantRoute | null = null;
    private calling = "";
    private called = "";
    private readonly peer: string;
    private readonly socket: Socket;
    private pending: Pending | null = null;
    private outcome: Promise<StoredInstance> | null = null;
    /** rows of confirmed instances still being committed: the association's release waits for them */
    private readonly recording = new Set<Promise<void>>();

    constructor(socket: Socket, opts: never) {
      super(socket, opts);
      this.socket = socket;
      // Small DIMSE responses must not wait for Nagle + delayed ACK (~40 ms each on loopback).
      socket.setNoDelay(true);
      this.peer = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;
      // A connection that ends mid-instance must not leave half a blob or a result behind.
      const discard = () => this.discardPending("association ended before the instance was complete");
      this.on("close", discard);
      this.on("networkError", (e: Error) => {
        deps.log(`association from ${this.peer}: ${e.message}`);
        discard();
      });
    }

    associationRequested(association: InstanceType<typeof dimse.association.Association>) {
      void this.negotiate(association).catch((e) => {
        deps.log(`association from ${this.peer} refused: ${e instanceof Error ? e.message : e}`);
        this.sendAssociationReject(RejectResult.Transient, RejectSource.ServiceUser, RejectReason.TemporaryCongestion);
      });
    }

    private async negotiate(association: InstanceType<typeof dimse.association.Association>) {
      this.called = association.getCalledAeTitle().trim();
      this.calling = association.getCallingAeTitle().trim();
      // Transient, so the sender keeps the studies queued and sends them again once the licence is renewed.
      const refused = deps.refusal?.();
      if (refused) {
        deps.log(`association from ${this.calling}@${this.peer} to ${this.called} rejected: ${refused}`);
        return this.sendAssociationReject(RejectResult.Transient, RejectSource.ServiceUser, RejectReason.NoReasonGiven);
      }
      const tenant = await deps.route(this.called);
      if (!tenant) {
        deps.log(`association from ${this.calling}@${this.peer} rejected: called AE title not recognized (${this.called})`);
        return this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      }
      if (tenant.suspended) {
        // Rejected-permanent, "called AE title not recognized": the one A-ASSOCIATE-RJ reason that tells the sending
        // PACS's admin what to act on (this destination no longer takes studies: stop sending, ask the receiver),
        // and permanent so the PACS does not retry on its own. The why is in our log, never on the wire.
        deps.log(
          `association from ${this.calling}@${this.peer} to ${this.called} rejected: tenant ${tenant.slug} is suspended since ${tenant.suspended.since.toISOString()} (${tenant.suspended.reason})`,
        );
        return this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      }
      if (tenant.allowedCallingAeTitles.length && !tenant.allowedCallingAeTitles.includes(this.calling)) {
        deps.log(`association from ${this.calling}@${this.peer} to ${this.called} rejected: calling AE title not allowed`);
        return this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
      }
      this.tenant = tenant;
      for (const { id } of association.getPresentationContexts()) {
        const pc = association.getPresentationContext(id);
        const abstract = pc.getAbstractSyntaxUid();
        if (abstract === SopClass.Verification || isStorageClass(abstract) || tenant.privateSopClasses?.includes(abstract)) {
          // The vendor's first proposed transfer syntax: stored as sent, never transcoded.
          pc.setResult(PresentationContextResult.Accept, pc.getTransferSyntaxUids()[0]);
        } else {
          pc.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        }
      }
      // The tenant's small instances go into a segment file made ahead (blob-store.ts); the first association after
      // a start waits for it (tens of ms, once), so its first instance does not go to a file of its own.
      await Promise.race([deps.blobs.prepareSegment(tenant.slug), new Promise((resolve) => setTimeout(resolve, SEGMENT_WAIT_MS).unref())]);
      this.sendAssociationAccept();
    }

    associationReleaseRequested() {
      // Once the vendor's association is released, what it sent is in the hold queue (listed, notified).
      if (!this.recording.size) return this.sendAssociationReleaseResponse();
      const wait = new Promise((resolve) => setTimeout(resolve, RELEASE_WAIT_MS).unref());
      void Promise.race([Promise.allSettled([...this.recording]), wait]).then(() => this.sendAssociationReleaseResponse());
    }

    abort() {
      this.discardPending("association aborted by the peer");
    }

    cEchoRequest(request: CEchoRequest, callback: (r: CEchoResponseT) => void) {
      const response = CEchoResponse.fromRequest(request);
      response.setStatus(Status.Success);
      callback(response);
    }

    createStoreWritableStream(pc: InstanceType<typeof dimse.association.PresentationContext>, request: CStoreRequest) {
      const tenant = this.tenant!;
      // The result's id is the one the blob store chose for its blob.
      const instance = {
        tenantSlug: tenant.slug,
        callingAe: this.calling,
        calledAe: this.called,
        peerAddress: this.peer,
        sopClassUid: request.getAffectedSopClassUid(),
        sopInstanceUid: request.getAffectedSopInstanceUid(),
        transferSyntaxUid: pc.getAcceptedTransferSyntaxUid() ?? "",
      };
      const meta = fileMetaHeader({ ...instance, sourceAeTitle: this.calling });
      const writerReady = deps.keyring.dataKey(tenant.slug).then((key) => {
        const writer = deps.blobs.newBlob(key, tenant.slug);
        writer.input.write(meta);
        return writer;
      });
      writerReady.catch(() => {});
      const pending: Pending = { writerReady, instance, prefix: [meta], prefixBytes: 0, header: null, presentationContextId: pc.getPresentationContextId(), recorded: settleable() };
      this.pending = pending;
      this.outcome = null;
      return new Writable({
        highWaterMark: 1 << 20,
        write: (chunk: Buffer, _enc, cb) => {
          if (!pending.header && pending.prefixBytes < HEADER_PREFIX_BYTES) {
            pending.prefix.push(chunk);
            pending.prefixBytes += chunk.length;
            if (pending.prefixBytes <= EARLY_HEADER_BYTES) pending.header = readHeaderFields(Buffer.concat(pending.prefix), true);
          }
          writerReady.then((w) => (w.input.write(chunk) ? cb() : w.input.once("drain", () => cb())), cb);
        },
        final: (cb) => {
          this.outcome = writerReady.then(async (w) => {
            const header = pending.header ?? readHeaderFields(Buffer.concat(pending.prefix));
            const receivedAt = deps.now();
            const record: StoredRecord = { ...instance, id: w.id, ...header, receivedAt: receivedAt.toISOString() };
            w.setRecord(record, pending.recorded.promise);
            w.input.end();
            const { size, sha256, blobId, recoverable } = await w.hashed;
            const durable = w.done.then(() => {});
            durable.catch(() => {}); // onStored reports it
            return { ...instance, id: w.id, blobId, sizeBytes: size, sha256, header, receivedAt, durable, recoverable };
          });
          this.outcome.catch(() => {});
          cb();
        },
      });
    }

    createDatasetFromStoreWritableStream(w: Writable, pc: InstanceType<typeof dimse.association.PresentationContext>, callback: (d: DatasetT) => void) {
      // The library passes the dataset on to cStoreRequest; ours is a placeholder (the bytes are in the blob
      // store), handed over once every byte has gone through our stream.
      const done = () => callback(new Dataset({}, pc.getAcceptedTransferSyntaxUid()));
      if (w.writableFinished) done();
      else w.once("finish", done);
    }

    cStoreRequest(request: CStoreRequest, callback: (r: CStoreResponseT) => void) {
      const outcome = this.outcome;
      const pending = this.pending;
      this.pending = null;
      this.outcome = null;
      if (!outcome || !pending) {
        const response = CStoreResponse.fromRequest(request);
        response.setStatus(0xa700);
        return callback(response);
      }
      // The response is encoded here, straight into its PDU (dimse-wire.ts), instead of through the library's
      // callback, which only sends it (and builds a dcmjs dataset and a log line on the way).
      const messageId = request.getMessageId();
      const respond = (status: number) => {
        if (this.socket.destroyed || !this.socket.writable) return;
        const command = cStoreResponseCommand({ messageId, sopClassUid: request.getAffectedSopClassUid(), sopInstanceUid: request.getAffectedSopInstanceUid(), status });
        this.socket.write(commandPdu(pending.presentationContextId, command));
      };
      outcome
        .then(async (stored) => {
          let recorded: Promise<void>;
          try {
            ({ recorded } = await deps.onStored(stored));
          } catch (e) {
            await stored.durable.catch(() => {}); // then the blob is in place (or already gone)
            await deps.blobs.delete(stored.tenantSlug, stored.blobId);
            throw e;
          }
          // A row that never commits keeps the segment open: the next start records the blob from its record.
          void recorded.then(pending.recorded.settle, () => {});
          const tracked = recorded.catch(() => {});
          this.recording.add(tracked);
          void tracked.then(() => this.recording.delete(tracked));
          respond(Status.Success);
        })
        .catch((e) => {
          pending.recorded.settle();
          deps.log(`C-STORE ${pending.instance.sopInstanceUid} from ${this.calling} failed: ${e instanceof Error ? e.message : e}`);
          respond(0xa700); // Refused: out of resources — the vendor may retry; nothing was kept
        });
    }

    private discardPending(reason: string) {
      const p = this.pending;
      if (!p) return;
      this.pending = null;
      this.outcome = null;
      p.recorded.settle();
      deps.log(`discarding partial instance ${p.instance.sopInstanceUid} from ${this.calling}: ${reason}`);
      p.writerReady.then((w) => w.abort(new Error(reason)), () => {});
    }
  }

  const server = new Server(RelayScp as never);
  server.on("networkError", (e: Error) => deps.log(`DICOM server: ${e.message}`));
  return {
    listen: (port: number) =>
      new Promise<void>((resolve) => {
        server.once("listening", () => resolve());
        server.listen(port, { associationTimeout: 30_000, pduTimeout: 60_000 });
      }),
    close: () => server.close(),
  };
}
