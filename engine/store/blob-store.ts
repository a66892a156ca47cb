// The local blob store: one encrypted file per blob under <dir>/<tenant>/<id>. Writes go to <id>.partial and are
// renamed into place only when complete and fsynced, so a failed or aborted write never leaves a half blob.
import { createHash, randomUUID } from "node:crypto";
import { close as closeCb, closeSync, createReadStream, fdatasync as fdatasyncCb, fsync as fsyncCb, mkdirSync, open as openCb, renameSync, write as writeCb, writeSync } from "node:fs";
import { open, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Writable, type Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { BLOB_HEADER_BYTES, TAG_BYTES, blobCipher, blobDecipher } from "./encryption";

const fsWrite = promisify((fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: Error | null, n: number) => void) => writeCb(fd, buf, off, len, pos, cb));
const fsFsync = promisify(fsyncCb);
const fsFdatasync = promisify(fdatasyncCb);
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

/** A new blob whose id the store chose (see BlobStore.newBlob). */
export type NewBlobWriter = BlobWriter & { id: string };

/** How long a tenant's spare file waits for its next instance before it is closed and removed. */
const SPARE_IDLE_MS = 60_000;
/** Spare files per tenant at most (about one per association sending to it at once). */
const MAX_SPARES = 8;
/** At start-up, a <id>.partial older than this belongs to no running write (spares live SPARE_IDLE_MS at most). */
const STALE_PARTIAL_MS = 60 * 60_000;

type Spare = { id: string; opened: Promise<number>; timer: NodeJS.Timeout };

/** Ciphertext is written in batches of at least this much (and at the end). */
const FLUSH_BYTES = 256 * 1024;

export class BlobStore {
  /** tenant folders known to exist (saves a mkdir per instance) */
  private readonly folders = new Set<string>();
  /** blobs being fsynced and renamed into place: a reader waits for them */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** per tenant, a temporary file opened ahead for its next new blob */
  private readonly spares = new Map<string, Spare[]>();
  /** per tenant, new blobs being written now (as many spares are kept, plus one) */
  private readonly writing = new Map<string, number>();
  private closed = false;
  constructor(private readonly dir: string) {}

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

  private openSpare(slug: string): Spare {
    const id = randomUUID();
    const tmp = `${this.file(slug, id)}.partial`;
    this.ensureFolder(tmp);
    // Synced while empty, so the file's creation is durable before it is used: the blob's own sync then carries
    // only its data (a fraction of a new file's fsync, which must commit the file system's journal).
    const opened = fsOpen(tmp, "wx").then(async (fd) => (await fsFsync(fd), fd));
    opened.catch(() => {}); // reported through the writer that takes it
    const spare: Spare = { id, opened, timer: setTimeout(() => void this.dropSpare(slug, spare), SPARE_IDLE_MS).unref() };
    return spare;
  }

  private async dropSpare(slug: string, spare: Spare) {
    clearTimeout(spare.timer);
    const left = this.spares.get(slug)?.filter((x) => x !== spare) ?? [];
    if (left.length) this.spares.set(slug, left);
    else this.spares.delete(slug);
    const fd = await spare.opened.catch(() => null);
    if (fd === null) return;
    await fsClose(fd).catch(() => {});
    await rm(`${this.file(slug, spare.id)}.partial`, { force: true });
  }

  /**
   * A writer for a new blob of the tenant, with an id the store chooses. Its temporary file is usually a spare,
   * created and synced after the tenant's previous blob was durable (while the vendor sends the next instance), so
   * neither the file's creation nor a journal commit for it is on this write's path. The next spare is made once
   * this blob is durable: made earlier, its sync would hold up this blob's.
   */
  newBlob(dataKey: Buffer, slug: string): NewBlobWriter {
    const spare = this.spares.get(slug)?.pop();
    if (spare) clearTimeout(spare.timer);
    this.writing.set(slug, (this.writing.get(slug) ?? 0) + 1);
    const id = spare?.id ?? randomUUID();
    const w = this.writer(dataKey, slug, id, spare?.opened);
    void w.done.catch(() => {}).finally(() => {
      const writing = (this.writing.get(slug) ?? 1) - 1;
      this.writing.set(slug, writing);
      // One spare for each association still writing and one for the next instance (capped).
      const spares = this.spares.get(slug) ?? [];
      if (!this.closed && spares.length < Math.min(MAX_SPARES, writing + 1)) this.spares.set(slug, [...spares, this.openSpare(slug)]);
    });
    return { id, ...w };
  }

  /** Closes and removes the spare files (at shutdown). */
  async close() {
    this.closed = true;
    await Promise.all([...this.spares].flatMap(([slug, spares]) => spares.map((spare) => this.dropSpare(slug, spare))));
  }

  /**
   * At start-up, after recovery: removes temporary files no write can own any more (a spare or a half-written
   * blob left by a stop), judged by age so an engine sharing the folder keeps its own. Returns how many.
   */
  async sweepStalePartials(now = Date.now()) {
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
    return removed;
  }

  /**
   * Streams plaintext into an encrypted blob, hashing the plaintext on the way. The file (<id>.partial) is opened
   * at once and written while the bytes arrive. Once the input ends, its size and hash are known (`hashed`);
   * the tail is then written, fsynced and the file renamed into place (`done`). The caller can commit the blob's
   * row meanwhile and confirm only when both are durable; a reader of the blob meanwhile waits for it. A crash in between leaves a
   * row whose blob is still <id>.partial: `recoverPartial` keeps it if it is complete, else the row goes.
   */
  writer(dataKey: Buffer, slug: string, id: string, preOpened?: Promise<number>): BlobWriter {
    const final = this.file(slug, id);
    const tmp = `${final}.partial`;
    const hash = createHash("sha256");
    let size = 0;
    const { header, cipher } = blobCipher(dataKey, slug, id);
    /**
     * The temporary file is opened in the thread pool at once (or was opened ahead: newBlob), while the instance
     * arrives. Once the input ends, `hashed` resolves and the tail is written, fsynced and the file renamed off
     * the caller's path (`done`).
     */
    this.ensureFolder(final);
    let fd: number | null = null;
    const opened = (preOpened ?? fsOpen(tmp, "wx")).then((f) => (fd = f));
    opened.catch(() => {}); // reported through `hashed`
    /** Ciphertext waiting for the next write: small chunks are coalesced into one write call. */
    let queued: Buffer[] = [header];
    let queuedBytes = header.length;
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
        await (preOpened ? fsFdatasync(f) : fsFsync(f));
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
    const key = `${slug}/${id}`;
    const settled = done.then(() => {}, () => {});
    this.inFlight.set(key, settled);
    void settled.then(() => this.inFlight.delete(key));
    // The caller awaits `done`; make sure an early abort is never an unhandled rejection meanwhile.
    hashed.catch(() => {});
    done.catch(() => {});
    return { input, hashed, done, abort: (reason) => input.destroy(reason ?? new Error("aborted")) };
  }

  /** A stream of the decrypted bytes; the GCM tag is checked at the end (a tampered blob errors the stream). */
  async reader(dataKey: Buffer, slug: string, id: string): Promise<Readable> {
    const file = this.file(slug, id);
    await this.inFlight.get(`${slug}/${id}`);
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

  /** Whether the blob is in place under its name. */
  async exists(slug: string, id: string) {
    return (await stat(this.file(slug, id)).catch(() => null))?.isFile() ?? false;
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
    await rm(this.file(slug, id), { force: true });
  }
}
