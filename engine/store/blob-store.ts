// The local blob store: one encrypted file per blob under <dir>/<tenant>/<id>. Writes go to <id>.partial and are
// renamed into place only when complete and fsynced, so a failed or aborted write never leaves a half blob.
import { createHash } from "node:crypto";
import { close as closeCb, createReadStream, fsync as fsyncCb, mkdirSync, open as openCb, renameSync, write as writeCb, writeSync } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { Writable, type Readable } from "node:stream";
import { finished, pipeline } from "node:stream/promises";
import { BLOB_HEADER_BYTES, TAG_BYTES, blobCipher, blobDecipher } from "./encryption";

const fsWrite = promisify((fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: Error | null, n: number) => void) => writeCb(fd, buf, off, len, pos, cb));
const fsFsync = promisify(fsyncCb);
const fsClose = promisify(closeCb);
const fsOpen = promisify(openCb);

export type BlobWriter = {
  /** plaintext goes in here */
  input: Writable;
  /**
   * resolves once every byte is written (to the blob's temporary file), with the plaintext's size and SHA-256:
   * the caller may commit the blob's row now, while the fsync runs
   */
  written: Promise<{ size: number; sha256: string }>;
  /** resolves once the encrypted blob is durably in place: fsynced, then renamed to its name */
  done: Promise<{ size: number; sha256: string }>;
  /** discards the partial blob */
  abort: (reason?: Error) => void;
};

/** Ciphertext is written in batches of at least this much (and at the end). */
const FLUSH_BYTES = 256 * 1024;
/**
 * A blob's tail up to this size is written synchronously (a page-cache copy, far cheaper than a thread-pool round
 * trip on a busy machine); the fsync always runs off the event loop.
 */
const SYNC_FINISH_BYTES = 1 << 20;

export class BlobStore {
  /** tenant folders known to exist (saves a mkdir per instance) */
  private readonly folders = new Set<string>();
  /** blobs being fsynced and renamed into place: a reader waits for them */
  private readonly inFlight = new Map<string, Promise<void>>();
  constructor(private readonly dir: string) {}

  private file(slug: string, id: string) {
    if (!/^[a-z0-9-]+$/.test(slug) || !/^[A-Za-z0-9-]+$/.test(id)) throw new Error("invalid blob address");
    return path.join(this.dir, slug, id);
  }

  /**
   * Streams plaintext into an encrypted blob, hashing the plaintext on the way. The file (<id>.partial) is opened
   * at once and written while the bytes arrive. Once the input ends and the tail is written (`written`), it is
   * fsynced and renamed into place (`done`). The caller can commit the blob's row while the fsync runs and
   * confirm only when both are durable; a reader of the blob meanwhile waits for it. A crash in between leaves a
   * row whose blob is still <id>.partial: `recoverPartial` keeps it if it is complete, else the row goes.
   */
  writer(dataKey: Buffer, slug: string, id: string): BlobWriter {
    const final = this.file(slug, id);
    const tmp = `${final}.partial`;
    const hash = createHash("sha256");
    let size = 0;
    const { header, cipher } = blobCipher(dataKey, slug, id);
    const folder = path.dirname(final);
    /**
     * The temporary file is opened in the thread pool at once, while the instance arrives; the tail is written and
     * the file renamed synchronously (page-cache operations cheaper than a thread-pool round trip on a busy
     * machine). Only the open, the fsync and a large instance's writes go to the pool.
     */
    if (!this.folders.has(folder)) {
      mkdirSync(folder, { recursive: true });
      this.folders.add(folder);
    }
    let fd: number | null = null;
    const opened = fsOpen(tmp, "wx").then((f) => (fd = f));
    opened.catch(() => {}); // reported through `written`
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
    const written = (async () => {
      try {
        await opened;
        await finished(input);
        if (queuedBytes <= SYNC_FINISH_BYTES) {
          const buf = take();
          const f = await opened;
          for (let off = 0; off < buf.length; ) {
            const n = writeSync(f, buf, off, buf.length - off, position);
            off += n;
            position += n;
          }
        } else {
          await flush();
        }
      } catch (e) {
        await discard();
        throw e;
      }
      return { f: fd!, size, sha256: hash.digest("hex") };
    })();
    const done = (async () => {
      const { f, sha256 } = await written;
      try {
        await fsFsync(f);
        renameSync(tmp, final);
      } catch (e) {
        await discard();
        throw e;
      }
      // Closing is not on the response's path: the blob is durable and in place already.
      void fsClose(f).catch(() => {});
      return { size, sha256 };
    })();
    const key = `${slug}/${id}`;
    const settled = done.then(() => {}, () => {});
    this.inFlight.set(key, settled);
    void settled.then(() => this.inFlight.delete(key));
    const writtenResult = written.then(({ size, sha256 }) => ({ size, sha256 }));
    writtenResult.catch(() => {});
    // The caller awaits `done`; make sure an early abort is never an unhandled rejection meanwhile.
    done.catch(() => {});
    return { input, written: writtenResult, done, abort: (reason) => input.destroy(reason ?? new Error("aborted")) };
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
