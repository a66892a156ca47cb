// The local blob store: one encrypted file per blob under <dir>/<tenant>/<id>. Writes go to <id>.partial and are
// renamed into place only when complete and fsynced, so a failed or aborted write never leaves a half blob.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Writable, type Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { BLOB_HEADER_BYTES, TAG_BYTES, blobCipher, blobDecipher } from "./encryption";

export type BlobWriter = {
  /** plaintext goes in here */
  input: Writable;
  /** resolves once the encrypted blob is durably in place, with the plaintext's size and SHA-256 */
  done: Promise<{ size: number; sha256: string }>;
  /** discards the partial blob */
  abort: (reason?: Error) => void;
};

/** Ciphertext is written in batches of at least this much (and at the end). */
const FLUSH_BYTES = 256 * 1024;

export class BlobStore {
  /** tenant folders known to exist (saves a mkdir per instance) */
  private readonly folders = new Set<string>();
  constructor(private readonly dir: string) {}

  private file(slug: string, id: string) {
    if (!/^[a-z0-9-]+$/.test(slug) || !/^[A-Za-z0-9-]+$/.test(id)) throw new Error("invalid blob address");
    return path.join(this.dir, slug, id);
  }

  /**
   * Streams plaintext into an encrypted blob, hashing the plaintext on the way. The file is opened at once and
   * written while the bytes arrive, so finishing costs only the tail write, one fsync and the rename: the C-STORE
   * response waits on exactly that.
   */
  writer(dataKey: Buffer, slug: string, id: string): BlobWriter {
    const final = this.file(slug, id);
    const tmp = `${final}.partial`;
    const hash = createHash("sha256");
    let size = 0;
    const { header, cipher } = blobCipher(dataKey, slug, id);
    const folder = path.dirname(final);
    const opened = (async () => {
      if (!this.folders.has(folder)) {
        await mkdir(folder, { recursive: true });
        this.folders.add(folder);
      }
      return open(tmp, "wx");
    })();
    opened.catch(() => {}); // reported through `done`
    /** Ciphertext waiting for the next write: small chunks are coalesced into one write call. */
    let queued: Buffer[] = [header];
    let queuedBytes = header.length;
    let position = 0;
    const flush = async (fh: FileHandle) => {
      const buf = queued.length === 1 ? queued[0]! : Buffer.concat(queued, queuedBytes);
      queued = [];
      queuedBytes = 0;
      for (let off = 0; off < buf.length; ) {
        const { bytesWritten } = await fh.write(buf, off, buf.length - off, position);
        off += bytesWritten;
        position += bytesWritten;
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
        opened.then(flush).then(() => cb(), cb);
      },
      final(cb) {
        queued.push(cipher.final(), cipher.getAuthTag());
        queuedBytes += TAG_BYTES;
        cb();
      },
    });
    // An abort can come at any point; `done` reports it.
    input.on("error", () => {});
    const done = (async () => {
      const fh = await opened;
      try {
        await finished(input);
        await flush(fh);
        await fh.sync();
        await rename(tmp, final);
      } catch (e) {
        await fh.close().catch(() => {});
        await rm(tmp, { force: true });
        throw e;
      }
      // Closing is not on the response's path: the blob is durable and in place already.
      void fh.close().catch(() => {});
      return { size, sha256: hash.digest("hex") };
    })();
    // The caller awaits `done`; make sure an early abort is never an unhandled rejection meanwhile.
    done.catch(() => {});
    return { input, done, abort: (reason) => input.destroy(reason ?? new Error("aborted")) };
  }

  /** A stream of the decrypted bytes; the GCM tag is checked at the end (a tampered blob errors the stream). */
  async reader(dataKey: Buffer, slug: string, id: string): Promise<Readable> {
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

  async delete(slug: string, id: string) {
    await rm(this.file(slug, id), { force: true });
  }
}
