// The local blob store, encrypted. A large blob is a file of its own under <dir>/<tenant>/<id>: it is written to
// <id>.partial and renamed into place only when complete and fsynced, so a failed or aborted write never leaves a
// half blob. Small blobs of the ingest path go into per-tenant segment files instead (segments.ts).
import { createHash, randomUUID, type Hash } from "node:crypto";
import { close as closeCb, closeSync, createReadStream, fsync as fsyncCb, mkdirSync, open as openCb, renameSync, write as writeCb, writeSync } from "node:fs";
import { open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Readable, Writable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { BLOB_HEADER_BYTES, BLOB_MAGIC, TAG_BYTES, blobCipher, blobDecipher, openRecord, sealRecord, sealedRecordBytes } from "./encryption";
import { SMALL_BLOB_MAX, Segments, parseSegmentRef, segmentRef } from "./segments";

const fsWrite = promisify((fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: Error | null, n: number) => void) => writeCb(fd, buf, off, len, pos, cb));
const fsFsync = promisify(fsyncCb);
const fsClose = promisify(closeCb);
const fsOpen = promisify(openCb);

export type BlobWriter = {
  /** plaintext goes in here */
  input: Writable;
  /**
   * resolves once the input has ended and every byte went through the hash, with the plaintext's size and
   * SHA-256: the caller may commit the blob's row now, while the tail is written and fsynced
   */
  hashed: Promise<{ size: number; sha256: string }>;
  /** resolves once the encrypted blob is durably in place: fsynced, then renamed to its name */
  done: Promise<{ size: number; sha256: string }>;
  /** discards the partial blob */
  abort: (reason?: Error) => void;
};

/** A new blob of the ingest path: its id is chosen by the store, and `blobId` says where its bytes went. */
export type NewBlobWriter = Omit<BlobWriter, "hashed" | "done"> & {
  id: string;
  /**
   * as BlobWriter's, with the blob's address (its id for a file of its own, a segment region for a small blob) and
   * whether it went with a record (setRecord), so that `recordedInOpenSegments` finds it after a crash if its row
   * never committed
   */
  hashed: Promise<{ size: number; sha256: string; blobId: string; recoverable: boolean }>;
  done: Promise<{ size: number; sha256: string; blobId: string; recoverable: boolean }>;
  /**
   * Before the input ends: what to keep with a small blob for recovery (JSON fields; its size and hash are added),
   * and a promise that settles once the caller has recorded it (its segment is not sealed before).
   */
  setRecord: (fields: Record<string, unknown>, until?: Promise<unknown>) => void;
};

/** At start-up, a <id>.partial older than this belongs to no running write. */
const STALE_PARTIAL_MS = 60 * 60_000;

/** Ciphertext is written in batches of at least this much (and at the end). */
const FLUSH_BYTES = 256 * 1024;

/** Plaintext already hashed and counted, handed to a file writer to encrypt and write first. */
type Seed = { hash: Hash; size: number; plaintext: Buffer[] };

export class BlobStore {
  /** tenant folders known to exist (saves a mkdir per instance) */
  private readonly folders = new Set<string>();
  /** blobs being fsynced and renamed into place: a reader waits for them */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly segments: Segments;
  /** new blobs being received (newBlob) whose bytes are not yet durable */
  private receiving = 0;
  constructor(
    private readonly dir: string,
    log: (m: string) => void = () => {},
  ) {
    this.segments = new Segments(dir, log);
  }

  private file(slug: string, id: string) {
    if (!/^[a-z0-9-]+$/.test(slug) || !/^[A-Za-z0-9-]+$/.test(id)) throw new Error("invalid blob address");
    return path.join(this.dir, slug, id);
  }

  private ensureFolder(file: string) {
    const folder = path.dirname(file);
    if (this.folders.has(folder)) return;
    mkdirSync(folder, { recursive: true });
    this.folders.add(folder);
  }

  private track(key: string, done: Promise<unknown>) {
    const settled = done.then(() => {}, () => {});
    this.inFlight.set(key, settled);
    void settled.then(() => this.inFlight.delete(key));
  }

  /**
   * A writer for a new blob of the tenant. The plaintext is kept in memory while it is small: a blob that ends
   * within SMALL_BLOB_MAX is encrypted whole and written to the tenant's current segment (segments.ts), one write
   * and one data sync; a larger one (or one that finds no segment ready) streams to a file of its own.
   */
  newBlob(dataKey: Buffer, slug: string): NewBlobWriter {
    const id = randomUUID();
    const hash = createHash("sha256");
    let size = 0;
    let held: Buffer[] = [];
    let file: BlobWriter | null = null;
    let small: { blobId: string; sha256: string; write: () => Promise<void> } | null = null;
    /** setRecord's; `given` once the caller has described the blob (only then can recovery record it) */
    let record: { fields: Record<string, unknown>; until?: Promise<unknown>; given: boolean } = { fields: {}, given: false };
    const spill = () => {
      file = this.writer(dataKey, slug, id, { hash, size, plaintext: held });
      held = [];
      return file;
    };
    const input = new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        if (file) return file.input.write(chunk) ? cb() : file.input.once("drain", () => cb());
        size += chunk.length;
        hash.update(chunk);
        held.push(chunk);
        if (BLOB_HEADER_BYTES + size + TAG_BYTES > SMALL_BLOB_MAX) spill();
        cb();
      },
      final: (cb) => {
        if (file) {
          file.input.end();
          return cb();
        }
        // A small blob goes to a segment region with its record (segments.ts): the caller's fields, and the
        // blob's size and hash, sealed with the tenant's key.
        const sha256 = hash.copy().digest("hex");
        const plainRecord = Buffer.from(JSON.stringify({ ...record.fields, sizeBytes: size, sha256 }));
        const slot = this.segments.allocate(slug, sealedRecordBytes(plainRecord.length), BLOB_HEADER_BYTES + size + TAG_BYTES);
        if (!slot) {
          spill().input.end();
          return cb();
        }
        const blobId = segmentRef(slot.ref);
        const sealedRecord = sealRecord(dataKey, slug, `${slot.ref.segment}.${slot.at}`, plainRecord);
        const { header, cipher } = blobCipher(dataKey, slug, blobId);
        const blob = [header, ...held.map((c) => cipher.update(c)), cipher.final(), cipher.getAuthTag()];
        held = [];
        // Until the caller says the blob is recorded, its segment stays open (searched at start-up).
        if (record.until) this.segments.hold(slot.segment, record.until);
        small = { blobId, sha256, write: () => this.segments.write(slot.segment, slot, sealedRecord, blob, this.receiving === 1) };
        cb();
      },
      // Called at the end of every stream (with no error once it finished): only an error aborts the file.
      destroy: (err, cb) => {
        if (err) (file as BlobWriter | null)?.abort(err);
        cb(err);
      },
    });
    input.on("error", () => {}); // `hashed` and `done` report it
    const hashed = (async () => {
      try {
        await finished(input);
      } catch (e) {
        await (file as BlobWriter | null)?.done.catch(() => {}); // its temporary file is removed by then
        throw e;
      }
      const f = file as BlobWriter | null;
      if (f) return { ...(await f.hashed), blobId: id, recoverable: false };
      return { size, sha256: small!.sha256, blobId: small!.blobId, recoverable: record.given };
    })();
    const done = (async () => {
      const result = await hashed;
      const f = file as BlobWriter | null;
      if (f) return { ...(await f.done), blobId: id, recoverable: false };
      // At once: the C-STORE waits for this, not for the row (relay/ingest.ts), which goes out after it.
      await small!.write();
      return result;
    })();
    void hashed.then((h) => h.blobId !== id && this.track(`${slug}/${h.blobId}`, done), () => {});
    hashed.catch(() => {});
    done.catch(() => {});
    this.receiving++;
    void done.finally(() => this.receiving--).catch(() => {});
    return {
      id,
      input,
      hashed,
      done,
      abort: (reason) => input.destroy(reason ?? new Error("aborted")),
      setRecord: (fields, until) => {
        record = { fields, until, given: true };
      },
    };
  }

  /** Has a segment made for the tenant's small blobs, if it has none (an association to it was just accepted). */
  prepareSegment(slug: string) {
    return this.segments.ready(slug);
  }

  /** Stops making segments (at shutdown); segments with no write left are sealed. */
  async close() {
    await this.segments.close();
  }

  /**
   * At start-up, after recovery: removes temporary files no write can own any more (a half-written blob left by a
   * stop), judged by age so an engine sharing the folder keeps its own, and seals segments such a stop left open.
   * Returns how many files it removed. `keepOpen` ("slug/segment") are segments recovery could not settle yet.
   */
  async sweepStalePartials(now = Date.now(), keepOpen: ReadonlySet<string> = new Set()) {
    let removed = 0;
    const tenants = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const t of tenants.filter((d) => d.isDirectory())) {
      const folder = path.join(this.dir, t.name);
      for (const name of await readdir(folder)) {
        if (!name.endsWith(".partial")) continue;
        const s = await stat(path.join(folder, name)).catch(() => null);
        if (!s || now - s.mtimeMs < STALE_PARTIAL_MS) continue;
        await rm(path.join(folder, name), { force: true });
        removed++;
      }
    }
    await this.segments.sealStale(now, keepOpen);
    return removed;
  }

  /** Removes segments no live blob is in (`live`: the segment ids a tenant's live results refer to). */
  collectSegments(live: (slug: string) => Promise<Set<string>>, now = Date.now()) {
    return this.segments.collect(live, now);
  }

  /**
   * Streams plaintext into an encrypted blob, hashing the plaintext on the way. The file (<id>.partial) is opened
   * at once and written while the bytes arrive. Once the input ends, its size and hash are known (`hashed`);
   * the tail is then written, fsynced and the file renamed into place (`done`). The caller can commit the blob's
   * row meanwhile and confirm only when both are durable; a reader of the blob meanwhile waits for it. A crash in between leaves a
   * row whose blob is still <id>.partial: `recoverPartial` keeps it if it is complete, else the row goes.
   */
  writer(dataKey: Buffer, slug: string, id: string, seed?: Seed): BlobWriter {
    const final = this.file(slug, id);
    const tmp = `${final}.partial`;
    const hash = seed?.hash ?? createHash("sha256");
    let size = seed?.size ?? 0;
    const { header, cipher } = blobCipher(dataKey, slug, id);
    /**
     * The temporary file is opened in the thread pool at once, while the instance arrives. Once the input ends,
     * `hashed` resolves and the tail is written, fsynced and the file renamed off the caller's path (`done`).
     */
    this.ensureFolder(final);
    let fd: number | null = null;
    const opened = fsOpen(tmp, "wx").then((f) => (fd = f));
    opened.catch(() => {}); // reported through `hashed`
    /** Ciphertext waiting for the next write: small chunks are coalesced into one write call. */
    let queued: Buffer[] = [header, ...(seed?.plaintext ?? []).map((c) => cipher.update(c))];
    let queuedBytes = queued.reduce((n, c) => n + c.length, 0);
    let position = 0;
    const take = () => {
      const buf = queued.length === 1 ? queued[0]! : Buffer.concat(queued, queuedBytes);
      queued = [];
      queuedBytes = 0;
      return buf;
    };
    const flush = async () => {
      const buf = take();
      const f = await opened;
      for (let off = 0; off < buf.length; ) {
        const n = await fsWrite(f, buf, off, buf.length - off, position);
        off += n;
        position += n;
      }
    };
    const input = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        hash.update(chunk);
        const c = cipher.update(chunk);
        queued.push(c);
        queuedBytes += c.length;
        if (queuedBytes < FLUSH_BYTES) return cb();
        flush().then(() => cb(), cb);
      },
      final(cb) {
        queued.push(cipher.final(), cipher.getAuthTag());
        queuedBytes += TAG_BYTES;
        cb();
      },
    });
    // An abort can come at any point; `done` reports it.
    input.on("error", () => {});
    const discard = async () => {
      if (fd === null) return;
      const f = fd;
      await fsClose(f).catch(() => {});
      await rm(tmp, { force: true });
    };
    const hashed = (async () => {
      try {
        await opened;
        await finished(input);
      } catch (e) {
        await discard();
        throw e;
      }
      return { size, sha256: hash.digest("hex") };
    })();
    const done = (async () => {
      const result = await hashed;
      const f = fd!;
      try {
        // The caller's row commit, started as `hashed` resolved, goes out first (setImmediate runs after it). The
        // tail, under FLUSH_BYTES, is then a page-cache copy on this thread: a thread-pool round trip fewer on
        // the way to the sync.
        await new Promise((resolve) => setImmediate(resolve));
        const tail = take();
        for (let off = 0; off < tail.length; ) {
          const n = writeSync(f, tail, off, tail.length - off, position);
          off += n;
          position += n;
        }
        await fsFsync(f);
        renameSync(tmp, final);
      } catch (e) {
        await discard();
        throw e;
      }
      // A close is a cheap system call once the data is synced; in the thread pool it would cost a round trip.
      try {
        closeSync(f);
      } catch {
        // the blob is durable and in place already
      }
      return result;
    })();
    this.track(`${slug}/${id}`, done);
    // The caller awaits `done`; make sure an early abort is never an unhandled rejection meanwhile.
    hashed.catch(() => {});
    done.catch(() => {});
    return { input, hashed, done, abort: (reason) => input.destroy(reason ?? new Error("aborted")) };
  }

  /** A stream of the decrypted bytes; the GCM tag is checked at the end (a tampered blob errors the stream). */
  async reader(dataKey: Buffer, slug: string, id: string): Promise<Readable> {
    await this.inFlight.get(`${slug}/${id}`);
    const ref = parseSegmentRef(id);
    if (ref) {
      // A small blob: read and checked whole (a tampered one fails here).
      const bytes = await this.segments.read(slug, ref);
      if (!bytes) throw new Error(`blob ${id} not found`);
      const decipher = blobDecipher(dataKey, slug, id, bytes.subarray(0, BLOB_HEADER_BYTES), bytes.subarray(bytes.length - TAG_BYTES));
      return Readable.from([Buffer.concat([decipher.update(bytes.subarray(BLOB_HEADER_BYTES, bytes.length - TAG_BYTES)), decipher.final()])]);
    }
    const file = this.file(slug, id);
    const { size } = await stat(file);
    const fh = await open(file, "r");
    const header = Buffer.alloc(BLOB_HEADER_BYTES);
    const tag = Buffer.alloc(TAG_BYTES);
    await fh.read(header, 0, BLOB_HEADER_BYTES, 0);
    await fh.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    await fh.close();
    const decipher = blobDecipher(dataKey, slug, id, header, tag);
    const raw = createReadStream(file, { start: BLOB_HEADER_BYTES, end: size - TAG_BYTES - 1 });
    raw.on("error", (e) => decipher.destroy(e));
    return raw.pipe(decipher);
  }

  async read(dataKey: Buffer, slug: string, id: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.reader(dataKey, slug, id)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Whether the blob is in place (for a small blob: its region holds a blob, not the zeros of a deleted one). */
  async exists(slug: string, id: string) {
    const ref = parseSegmentRef(id);
    if (ref) return (await this.segments.read(slug, { ...ref, length: BLOB_MAGIC.length }).catch(() => null))?.equals(BLOB_MAGIC) ?? false;
    return (await stat(this.file(slug, id)).catch(() => null))?.isFile() ?? false;
  }

  /**
   * After a stop, for a live result's blob: "in place" when it is durable; a file blob still <id>.partial is
   * kept or discarded (recoverPartial); a small blob in a segment that was still open is checked (it decrypts and
   * its tag verifies), and its region is zeroed ("discarded") when it does not. "absent": no file at all.
   */
  async recover(dataKey: () => Promise<Buffer>, slug: string, id: string): Promise<"in place" | "kept" | "discarded" | "absent"> {
    const ref = parseSegmentRef(id);
    if (!ref) return (await this.exists(slug, id)) ? "in place" : this.recoverPartial(await dataKey(), slug, id);
    const at = await this.segments.locate(slug, ref.segment);
    if (!at) return "absent";
    if (!at.open) return "in place";
    const key = await dataKey();
    try {
      await this.read(key, slug, id);
      return "in place";
    } catch {
      await this.segments.erase(slug, ref);
      return "discarded";
    }
  }

  /**
   * After a stop, before anything new is stored: the small blobs in segments an earlier run left open, each with
   * its record (the fields given to setRecord, plus sizeBytes and sha256), in the order they were stored. Only
   * intact ones: the record and the blob decrypt and their tags verify. A blob written only in part (its C-STORE
   * was never confirmed) is zeroed; a deleted one is skipped. The caller records those that have no row.
   */
  async recordedInOpenSegments(dataKey: (slug: string) => Promise<Buffer>): Promise<{ slug: string; blobId: string; record: unknown }[]> {
    const found: { slug: string; blobId: string; record: unknown }[] = [];
    for (const { slug, id } of await this.segments.leftOpen()) {
      const key = await dataKey(slug);
      for (const region of await this.segments.regions(slug, id)) {
        let record: unknown;
        try {
          record = JSON.parse(openRecord(key, slug, `${id}.${region.at}`, region.record).toString());
        } catch {
          continue; // not a whole region: its blob was never written either
        }
        const blobId = segmentRef(region.ref);
        if (!(await this.exists(slug, blobId))) continue; // deleted
        try {
          await this.read(key, slug, blobId);
        } catch {
          await this.segments.erase(slug, region.ref);
          continue;
        }
        found.push({ slug, blobId, record });
      }
    }
    return found;
  }

  /**
   * After a crash: a blob whose row committed while its fsync ran is still <id>.partial. Complete (it decrypts
   * and its GCM tag checks out) means the fsync or the rename is what was lost: it is synced and renamed into
   * place ("kept"). Otherwise it is removed ("discarded"); "absent" when there is no partial file either.
   */
  async recoverPartial(dataKey: Buffer, slug: string, id: string): Promise<"kept" | "discarded" | "absent"> {
    const final = this.file(slug, id);
    const tmp = `${final}.partial`;
    const s = await stat(tmp).catch(() => null);
    if (!s) return "absent";
    try {
      if (s.size < BLOB_HEADER_BYTES + TAG_BYTES) throw new Error("short");
      const fh = await open(tmp, "r");
      try {
        const header = Buffer.alloc(BLOB_HEADER_BYTES);
        const tag = Buffer.alloc(TAG_BYTES);
        await fh.read(header, 0, BLOB_HEADER_BYTES, 0);
        await fh.read(tag, 0, TAG_BYTES, s.size - TAG_BYTES);
        const decipher = blobDecipher(dataKey, slug, id, header, tag);
        const raw = createReadStream(tmp, { start: BLOB_HEADER_BYTES, end: s.size - TAG_BYTES - 1 });
        // Rejects when the tag does not match (or the file cannot be read).
        await pipeline(raw, decipher, new Writable({ write: (_c, _e, cb) => cb() }));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, final);
      return "kept";
    } catch {
      await rm(tmp, { force: true });
      return "discarded";
    }
  }

  async delete(slug: string, id: string) {
    const ref = parseSegmentRef(id);
    if (ref) await this.segments.erase(slug, ref);
    else await rm(this.file(slug, id), { force: true });
  }
}
