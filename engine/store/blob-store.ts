// The local blob store: one encrypted file per blob under <dir>/<tenant>/<id>. Writes go to a temporary file
// and are renamed into place only when complete, so a failed or aborted write never leaves a half blob.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { once } from "node:events";
import path from "node:path";
import { PassThrough, Transform, type Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { BLOB_HEADER_BYTES, TAG_BYTES, blobCipher, blobDecipher } from "./encryption";

export type BlobWriter = {
  /** plaintext goes in here */
  input: Writable;
  /** resolves once the encrypted blob is durably in place, with the plaintext's size and SHA-256 */
  done: Promise<{ size: number; sha256: string }>;
  /** discards the partial blob */
  abort: (reason?: Error) => void;
};

export class BlobStore {
  /** tenant folders known to exist (saves a mkdir per instance) */
  private readonly folders = new Set<string>();
  constructor(private readonly dir: string) {}

  private file(slug: string, id: string) {
    if (!/^[a-z0-9-]+$/.test(slug) || !/^[A-Za-z0-9-]+$/.test(id)) throw new Error("invalid blob address");
    return path.join(this.dir, slug, id);
  }

  /** Streams plaintext into an encrypted blob, hashing the plaintext on the way. */
  writer(dataKey: Buffer, slug: string, id: string): BlobWriter {
    const final = this.file(slug, id);
    const tmp = `${final}.${process.pid}.${Date.now()}.partial`;
    const input = new PassThrough({ highWaterMark: 1 << 20 });
    // An abort can come before the pipeline below is attached; the pipeline reports it through `done`.
    input.on("error", () => {});
    const hash = createHash("sha256");
    let size = 0;
    const { header, cipher } = blobCipher(dataKey, slug, id);
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const done = (async () => {
      const folder = path.dirname(final);
      if (!this.folders.has(folder)) {
        await mkdir(folder, { recursive: true });
        this.folders.add(folder);
      }
      const out = createWriteStream(tmp, { flags: "wx" });
      try {
        out.write(header);
        cipher.pipe(out, { end: false });
        const ended = once(cipher, "end");
        ended.catch(() => {}); // a failed pipeline below reports the error itself
        await pipeline(input, counter, cipher);
        await ended;
        out.end(cipher.getAuthTag());
        await once(out, "close");
        const fh = await open(tmp, "r");
        await fh.sync();
        await fh.close();
        await rename(tmp, final);
      } catch (e) {
        out.destroy();
        await rm(tmp, { force: true });
        throw e;
      }
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
