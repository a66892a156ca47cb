// Small blobs (a vendor's typical result: an SR, a secondary capture, a small image) are appended to a per-tenant
// segment file instead of a file each. A segment is created and filled with zeros ahead of need (off the ingest
// path), so a blob's fdatasync carries only its data: no file to create, no blocks to allocate, no size to change,
// hence no file-system journal commit, and no rename. Creating, syncing and renaming a file per instance was most
// of the ingest path's kernel time and the larger of the two flushes each C-STORE waited for.
//
// A segment is `<id>.seg.open` while blobs are being written into it, and is renamed `<id>.seg` ("sealed") only
// once it is full, every write into it has been synced and every blob held for it (hold) is recorded. At start-up,
// the blobs of segments still open are checked (they decrypt and their GCM tags verify), and ones that were never
// recorded are found by their regions' headers (RECORD_MAGIC); a sealed segment's blobs are durable and recorded by
// construction. Deleting a blob zeroes it; a sealed segment that no live result refers to is removed.
import { randomUUID } from "node:crypto";
import { closeSync, fdatasync as fdatasyncCb, fdatasyncSync, fsync as fsyncCb, mkdirSync, open as openCb, write as writeCb, writeSync } from "node:fs";
import { open, readFile, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const fsFdatasync = promisify(fdatasyncCb);
const fsFsync = promisify(fsyncCb);
const fsOpen = promisify(openCb);
const fsWrite = promisify((fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: Error | null, n: number) => void) => writeCb(fd, buf, off, len, pos, cb));

/** Blobs up to this size (ciphertext) go to a segment; larger ones stream to a file of their own. */
export const SMALL_BLOB_MAX = 256 * 1024;
/** A segment's size, preallocated with zeros. */
const SEGMENT_BYTES = 16 * 1024 * 1024;
/** Regions start on page boundaries: zeroing a blob never rewrites a page another is being synced from. */
const ALIGN = 4096;
/** The next segment is made once the current one is this full. */
const PREPARE_AT = SEGMENT_BYTES / 2;
/** A sealed segment no live result refers to is removed only after this long (rows commit within ms of writes). */
const COLLECT_GRACE_MS = 10 * 60_000;
/** At start-up, an open segment this old belongs to no running engine sharing the folder, and is sealed. */
const STALE_OPEN_MS = 60 * 60_000;

/**
 * A blob's data sync runs on the calling thread when it is the only blob being received and syncs take less than
 * this (a running average): handing it to the thread pool and back costs two thread wake-ups, which on a small VM
 * took about as long as the sync itself (bench:relay, one association, against the pool in paired rounds: medians
 * 1.21×, 0.96× and 1.14× the rate over three runs of 8 rounds). With other blobs arriving meanwhile it goes to the
 * pool: syncs held the event loop then, and with four associations notify latency's p99 doubled. On a slower disk
 * it goes to the pool too, so the event loop is never held for long.
 */
const INLINE_SYNC_MAX_MS = 2;

/**
 * A region starts with RECORD_MAGIC | record length (u32 LE) | blob length (u32 LE), then the blob's record (what
 * the engine knows of it: its SOP instance, who sent it, when, its hash; sealed with the tenant's key, see
 * sealRecord), then the blob. After a crash, the regions of a segment left open are found by these headers, and a
 * blob whose C-STORE was confirmed but whose row never committed is recorded from its record.
 */
const RECORD_MAGIC = Buffer.from("IOR1");
const RECORD_HEADER_BYTES = 12;
const MAX_RECORD_BYTES = 16 * 1024;

const ZEROS = Buffer.alloc(1024 * 1024);
const SEGMENT_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.seg(\.open)?$/;
const REF = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d+)\.(\d+)$/;

/** A blob in a segment is addressed `<segment id>.<offset>.<length>` (a file blob's id has no dots). */
export type SegmentRef = { segment: string; offset: number; length: number };

export function parseSegmentRef(blobId: string): SegmentRef | null {
  const m = REF.exec(blobId);
  return m ? { segment: m[1]!, offset: Number(m[2]), length: Number(m[3]) } : null;
}

export const segmentRef = (r: SegmentRef) => `${r.segment}.${r.offset}.${r.length}`;

type Segment = { id: string; slug: string; fd: number; used: number; writing: number; full: boolean };

export class Segments {
  /** per tenant, the segment new blobs go into */
  private readonly current = new Map<string, Segment>();
  /** per tenant, the next segment, made ahead */
  private readonly next = new Map<string, Promise<Segment | null>>();
  private readonly nextReady = new Map<string, Segment>();
  /** renames of sealed segments under way (close waits for them) */
  private readonly sealing = new Set<Promise<void>>();
  private closed = false;
  /** running average of a blob's data sync, in ms (INLINE_SYNC_MAX_MS) */
  private syncMs = 0;

  constructor(
    private readonly dir: string,
    private readonly log: (m: string) => void = () => {},
  ) {}

  private file(slug: string, id: string, open: boolean) {
    if (!/^[a-z0-9-]+$/.test(slug)) throw new Error("invalid blob address");
    return path.join(this.dir, slug, `${id}.seg${open ? ".open" : ""}`);
  }

  /** Resolves once the tenant has a segment ready for its next small blob (made now if need be). */
  async ready(slug: string) {
    if (this.current.has(slug)) return;
    this.prepare(slug);
    await this.next.get(slug);
  }

  /** Makes the tenant's next segment, unless one is ready or being made. */
  private prepare(slug: string) {
    if (this.closed || this.next.has(slug) || this.nextReady.has(slug)) return;
    const made = this.create(slug).then(
      (s) => (this.closed ? (closeSync(s.fd), null) : (this.nextReady.set(slug, s), s)),
      (e) => (this.log(`blob store: could not make a segment for ${slug}: ${e instanceof Error ? e.message : e}`), null),
    );
    this.next.set(slug, made);
    void made.finally(() => this.next.delete(slug));
  }

  private async create(slug: string): Promise<Segment> {
    const id = randomUUID();
    const file = this.file(slug, id, true);
    mkdirSync(path.dirname(file), { recursive: true });
    // A plain descriptor (not a FileHandle): writes and syncs on the ingest path use it directly.
    const fd = await fsOpen(file, "wx");
    try {
      for (let at = 0; at < SEGMENT_BYTES; at += ZEROS.length) await fsWrite(fd, ZEROS, 0, ZEROS.length, at);
      await fsFsync(fd);
      // The file's name must be durable before a blob's durability rests on it.
      const folder = await open(path.dirname(file), "r");
      await folder.sync().finally(() => folder.close());
    } catch (e) {
      closeSync(fd);
      await rm(file, { force: true });
      throw e;
    }
    return { id, slug, fd, used: 0, writing: 0, full: false };
  }

  /**
   * A region for a small blob and its record (RECORD_MAGIC's layout) in the tenant's current segment, or null when
   * none is ready (the caller writes a file of its own; a segment is being made meanwhile). `at` is where the region
   * starts, `ref` where the blob is.
   */
  allocate(slug: string, recordLength: number, blobLength: number): { segment: Segment; at: number; ref: SegmentRef } | null {
    if (this.closed || blobLength > SMALL_BLOB_MAX || recordLength > MAX_RECORD_BYTES) return null;
    const size = Math.ceil((RECORD_HEADER_BYTES + recordLength + blobLength) / ALIGN) * ALIGN;
    let s = this.current.get(slug);
    if (s && s.used + size > SEGMENT_BYTES) {
      s.full = true;
      this.current.delete(slug);
      this.sealIfDone(s);
      s = undefined;
    }
    if (!s) {
      s = this.nextReady.get(slug);
      if (!s) {
        this.prepare(slug);
        return null;
      }
      this.nextReady.delete(slug);
      this.current.set(slug, s);
    }
    const at = s.used;
    s.used += size;
    s.writing++;
    if (s.used >= PREPARE_AT) this.prepare(slug);
    return { segment: s, at, ref: { segment: s.id, offset: at + RECORD_HEADER_BYTES + recordLength, length: blobLength } };
  }

  /**
   * Writes an allocated region (RECORD_MAGIC's header, the sealed record, the blob's parts) and syncs it. The write
   * is a page-cache copy on this thread (a thread-pool round trip fewer); so is the sync of a blob received `alone`
   * while syncs are fast (INLINE_SYNC_MAX_MS), else it runs in the thread pool.
   */
  async write(segment: Segment, slot: { at: number; ref: SegmentRef }, record: Buffer, blob: Buffer[], alone: boolean) {
    try {
      const header = Buffer.alloc(RECORD_HEADER_BYTES);
      RECORD_MAGIC.copy(header);
      header.writeUInt32LE(record.length, 4);
      header.writeUInt32LE(slot.ref.length, 8);
      const bytes = Buffer.concat([header, record, ...blob]);
      for (let off = 0; off < bytes.length; ) off += writeSync(segment.fd, bytes, off, bytes.length - off, slot.at + off);
      const started = performance.now();
      if (alone && this.syncMs < INLINE_SYNC_MAX_MS) fdatasyncSync(segment.fd);
      else await fsFdatasync(segment.fd);
      this.syncMs += (performance.now() - started - this.syncMs) / 8;
    } finally {
      this.release(segment);
    }
  }

  /**
   * Keeps the segment open (not sealed) until `until` settles: a blob's C-STORE is confirmed once its region is
   * durable, and its row commits just after; until it has, only an open segment is searched for it at start-up.
   */
  hold(segment: Segment, until: Promise<unknown>) {
    segment.writing++;
    void until.then(() => this.release(segment), () => this.release(segment));
  }

  private release(segment: Segment) {
    segment.writing--;
    this.sealIfDone(segment);
  }

  /** A full segment whose writes are all synced is renamed to its sealed name. */
  private sealIfDone(s: Segment) {
    if (!s.full || s.writing > 0) return;
    try {
      closeSync(s.fd);
    } catch {
      // already closed
    }
    const renamed = rename(this.file(s.slug, s.id, true), this.file(s.slug, s.id, false)).catch((e) => this.log(`blob store: could not seal segment ${s.id}: ${e.message}`));
    this.sealing.add(renamed);
    void renamed.finally(() => this.sealing.delete(renamed));
  }

  /**
   * The segment's file (sealed or open) and whether it is open, or null when there is none. Sealed is looked for
   * again last: a segment sealed between the first two looks is found then.
   */
  async locate(slug: string, segment: string): Promise<{ file: string; open: boolean } | null> {
    for (const isOpen of [false, true, false]) {
      const file = this.file(slug, segment, isOpen);
      if (await stat(file).then(() => true, () => false)) return { file, open: isOpen };
    }
    return null;
  }

  /** Open segments left by an earlier run (at start-up, before this run made any): tenant and id. */
  async leftOpen() {
    return (await this.list()).filter((s) => s.open && !this.inUse(s.slug, s.id)).map(({ slug, id }) => ({ slug, id }));
  }

  /**
   * The regions of an open segment, found by their headers (RECORD_MAGIC): where each starts, its sealed record,
   * and its blob's address. Unwritten space (zeros) and a header that does not add up are stepped over page by
   * page; what a region holds is checked by the caller (records and blobs are authenticated).
   */
  async regions(slug: string, id: string): Promise<{ at: number; record: Buffer; ref: SegmentRef }[]> {
    const bytes = await readFile(this.file(slug, id, true));
    const found = [];
    for (let at = 0; at + RECORD_HEADER_BYTES <= bytes.length; ) {
      const recordLength = bytes.readUInt32LE(at + 4);
      const blobLength = bytes.readUInt32LE(at + 8);
      const end = at + RECORD_HEADER_BYTES + recordLength + blobLength;
      if (!bytes.subarray(at, at + RECORD_MAGIC.length).equals(RECORD_MAGIC) || recordLength > MAX_RECORD_BYTES || blobLength > SMALL_BLOB_MAX || end > bytes.length) {
        at += ALIGN;
        continue;
      }
      const recordAt = at + RECORD_HEADER_BYTES;
      found.push({ at, record: bytes.subarray(recordAt, recordAt + recordLength), ref: { segment: id, offset: recordAt + recordLength, length: blobLength } });
      at = Math.ceil(end / ALIGN) * ALIGN;
    }
    return found;
  }

  /** The blob's stored bytes, or null when its segment is gone or too short. */
  async read(slug: string, ref: SegmentRef): Promise<Buffer | null> {
    const at = await this.locate(slug, ref.segment);
    if (!at) return null;
    const fh = await open(at.file, "r");
    try {
      const buf = Buffer.alloc(ref.length);
      const { bytesRead } = await fh.read(buf, 0, ref.length, ref.offset);
      return bytesRead === ref.length ? buf : null;
    } finally {
      await fh.close();
    }
  }

  /** Zeroes the blob's region (its ciphertext is gone; the space is reclaimed with the segment). */
  async erase(slug: string, ref: SegmentRef) {
    const at = await this.locate(slug, ref.segment);
    if (!at) return;
    const fh = await open(at.file, "r+");
    try {
      for (let off = 0; off < ref.length; off += ZEROS.length) await fh.write(ZEROS, 0, Math.min(ZEROS.length, ref.length - off), ref.offset + off);
    } finally {
      await fh.close();
    }
  }

  /** Every segment file of every tenant: its tenant, id, whether open, and when it was last written. */
  private async list() {
    const found: { slug: string; id: string; open: boolean; mtimeMs: number; file: string }[] = [];
    const tenants = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const t of tenants.filter((d) => d.isDirectory())) {
      for (const name of await readdir(path.join(this.dir, t.name))) {
        const m = SEGMENT_FILE.exec(name);
        if (!m) continue;
        const file = path.join(this.dir, t.name, name);
        const s = await stat(file).catch(() => null);
        if (s) found.push({ slug: t.name, id: m[1]!, open: !!m[2], mtimeMs: s.mtimeMs, file });
      }
    }
    return found;
  }

  private inUse(slug: string, id: string) {
    return this.current.get(slug)?.id === id || this.nextReady.get(slug)?.id === id;
  }

  /**
   * At start-up, after recovery has checked the live blobs of open segments: seals open segments left by an
   * earlier run (judged by age, so an engine sharing the folder keeps its own). Never one in `keepOpen`
   * ("slug/segment"): it holds a confirmed blob whose row recovery could not write yet, and only an open segment is
   * searched for such blobs at the next start. Returns how many.
   */
  async sealStale(now = Date.now(), keepOpen: ReadonlySet<string> = new Set()) {
    let sealed = 0;
    for (const s of await this.list()) {
      if (!s.open || this.inUse(s.slug, s.id) || now - s.mtimeMs < STALE_OPEN_MS || keepOpen.has(`${s.slug}/${s.id}`)) continue;
      await rename(s.file, this.file(s.slug, s.id, false));
      sealed++;
    }
    return sealed;
  }

  /** Removes sealed segments that no live result refers to (`live`: a tenant's segment ids in use). Returns how many. */
  async collect(live: (slug: string) => Promise<Set<string>>, now = Date.now()) {
    let removed = 0;
    const sealed = (await this.list()).filter((s) => !s.open && now - s.mtimeMs >= COLLECT_GRACE_MS);
    for (const slug of new Set(sealed.map((s) => s.slug))) {
      const inUse = await live(slug);
      for (const s of sealed.filter((x) => x.slug === slug && !inUse.has(x.id))) {
        await rm(s.file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Stops making segments: one made ahead and never used is removed; a current one with no write left is sealed. */
  async close() {
    this.closed = true;
    await Promise.all(this.next.values());
    for (const s of this.nextReady.values()) {
      closeSync(s.fd);
      await rm(this.file(s.slug, s.id, true), { force: true });
    }
    this.nextReady.clear();
    for (const s of this.current.values()) {
      s.full = true;
      this.sealIfDone(s);
    }
    this.current.clear();
    await Promise.all(this.sealing);
  }
}
