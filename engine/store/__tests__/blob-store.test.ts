import { randomBytes, createHash, randomUUID } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, stat, truncate, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BlobStore } from "../blob-store";
import { newDataKey, parseMasterKey, unwrapKey, wrapKey } from "../encryption";
import { parseSegmentRef, segmentRef } from "../segments";
import { until } from "../../../test/until";

describe("encrypted blob store", () => {
  it("round-trips a multi-megabyte blob streamed in chunks and reports its size and SHA-256", async () => {
    const store = new BlobStore(await mkdtemp(path.join(os.tmpdir(), "blobs-")));
    const key = newDataKey();
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const w = store.writer(key, "alpha", "b1");
    for (let i = 0; i < data.length; i += 65536) w.input.write(data.subarray(i, i + 65536));
    w.input.end();
    const { size, sha256 } = await w.done;
    expect(size).toBe(data.length);
    expect(sha256).toBe(createHash("sha256").update(data).digest("hex"));
    expect((await store.read(key, "alpha", "b1")).equals(data)).toBe(true);
  });

  it("stores ciphertext, not plaintext", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const w = store.writer(newDataKey(), "alpha", "plain");
    w.input.end(Buffer.from("PATIENT^NAME ".repeat(100)));
    await w.done;
    expect((await readFile(path.join(dir, "alpha", "plain"))).includes(Buffer.from("PATIENT^NAME"))).toBe(false);
  });

  it("cannot be decrypted with another tenant's key, nor read as another blob or tenant", async () => {
    const store = new BlobStore(await mkdtemp(path.join(os.tmpdir(), "blobs-")));
    const a = newDataKey();
    const w = store.writer(a, "alpha", "secret");
    w.input.end(Buffer.from("tenant A result"));
    await w.done;
    await expect(store.read(newDataKey(), "alpha", "secret")).rejects.toThrow(/authenticate/);
  });

  it("detects tampering with the stored bytes", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const key = newDataKey();
    const w = store.writer(key, "alpha", "t");
    w.input.end(randomBytes(1000));
    await w.done;
    const file = path.join(dir, "alpha", "t");
    const bytes = await readFile(file);
    bytes[100]! ^= 1;
    await writeFile(file, bytes);
    await expect(store.read(key, "alpha", "t")).rejects.toThrow(/authenticate/);
  });

  it("leaves nothing behind when a write is aborted", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const w = store.writer(newDataKey(), "alpha", "aborted");
    w.input.write(randomBytes(10_000));
    w.abort(new Error("association aborted"));
    await expect(w.done).rejects.toThrow();
    expect(await readdir(path.join(dir, "alpha"))).toEqual([]);
  });

  it("reports size and hash before the blob is durable; a reader waits for the blob to be in place", async () => {
    const store = new BlobStore(await mkdtemp(path.join(os.tmpdir(), "blobs-")));
    const key = newDataKey();
    const data = randomBytes(40_000);
    const w = store.writer(key, "alpha", "early");
    w.input.end(data);
    const hashed = await w.hashed;
    expect(hashed).toEqual({ size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
    // Read at once, without waiting for `done`: the reader waits for the fsync and rename.
    const [bytes, done] = await Promise.all([store.read(key, "alpha", "early"), w.done]);
    expect(bytes.equals(data)).toBe(true);
    expect(done).toEqual(hashed);
  });

  it("after a crash, keeps a complete partial blob and discards an incomplete one", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const key = newDataKey();
    const data = randomBytes(50_000);
    for (const id of ["whole", "short"]) {
      const w = store.writer(key, "alpha", id);
      w.input.end(data);
      await w.done;
      // As if the engine had stopped before the rename: the blob is still its temporary file.
      await rename(path.join(dir, "alpha", id), path.join(dir, "alpha", `${id}.partial`));
    }
    await truncate(path.join(dir, "alpha", "short.partial"), 30_000);
    expect(await store.exists("alpha", "whole")).toBe(false);
    expect(await store.recoverPartial(key, "alpha", "whole")).toBe("kept");
    expect((await store.read(key, "alpha", "whole")).equals(data)).toBe(true);
    expect(await store.recoverPartial(key, "alpha", "short")).toBe("discarded");
    expect(await store.recoverPartial(key, "alpha", "never")).toBe("absent");
    // A complete blob under another blob's name fails its tag (the blob id is authenticated data).
    await copyFile(path.join(dir, "alpha", "whole"), path.join(dir, "alpha", "other.partial"));
    expect(await store.recoverPartial(key, "alpha", "other")).toBe("discarded");
    expect((await readdir(path.join(dir, "alpha"))).sort()).toEqual(["whole"]);
  });

  it("small new blobs share the tenant's segment, made ahead; a large one, or one that finds no segment ready, gets a file of its own", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const key = newDataKey();
    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const first = store.newBlob(key, "alpha");
    first.input.end(randomBytes(1000));
    expect((await first.done).blobId).toBe(first.id);

    await store.prepareSegment("alpha");
    const data = [randomBytes(40_000), randomBytes(3000)];
    const writers = data.map((d) => {
      const w = store.newBlob(key, "alpha");
      w.input.end(d);
      return w;
    });
    const done = await Promise.all(writers.map((w) => w.done));
    const refs = done.map((d) => parseSegmentRef(d.blobId)!);
    for (const [i, d] of done.entries()) {
      expect(d).toMatchObject({ size: data[i]!.length, sha256: sha(data[i]!) });
      expect((await store.read(key, "alpha", d.blobId)).equals(data[i]!)).toBe(true);
    }
    // One segment, page-aligned regions: a header and the sealed record, then the blob (header, ciphertext, tag).
    expect(refs[1]!.segment).toBe(refs[0]!.segment);
    expect(refs.map((r) => r.length)).toEqual([40_032, 3032]);
    const segment = path.join(dir, "alpha", `${refs[0]!.segment}.seg.open`);
    const stored = await readFile(segment);
    for (const [i, at] of [0, 40_960].entries()) {
      expect(stored.subarray(at, at + 4).toString()).toBe("IOR1");
      expect(stored.readUInt32LE(at + 8)).toBe(refs[i]!.length);
      expect(refs[i]!.offset).toBe(at + 12 + stored.readUInt32LE(at + 4));
    }
    expect(stored.includes(data[0]!.subarray(0, 64))).toBe(false);

    const big = randomBytes(300_000);
    const b = store.newBlob(key, "alpha");
    for (let i = 0; i < big.length; i += 65536) b.input.write(big.subarray(i, i + 65536));
    b.input.end();
    expect(await b.done).toEqual({ size: big.length, sha256: sha(big), blobId: b.id, recoverable: false });
    expect((await store.read(key, "alpha", b.id)).equals(big)).toBe(true);

    // The tenant and the region are authenticated: another key, or another region's address, fails.
    await expect(store.read(newDataKey(), "alpha", done[0]!.blobId)).rejects.toThrow(/authenticate/);
    await expect(store.read(key, "alpha", segmentRef({ ...refs[1]!, offset: 0 }))).rejects.toThrow();
    // Deleting a small blob zeroes its region; its neighbour is untouched.
    await store.delete("alpha", done[0]!.blobId);
    expect(await store.exists("alpha", done[0]!.blobId)).toBe(false);
    expect(await store.exists("alpha", done[1]!.blobId)).toBe(true);
    expect((await readFile(segment)).subarray(refs[0]!.offset, refs[0]!.offset + 40_032).every((x) => x === 0)).toBe(true);
    // Closing seals the segment (every write into it is synced).
    await store.close();
    expect((await readdir(path.join(dir, "alpha"))).sort()).toEqual([first.id, b.id, `${refs[0]!.segment}.seg`].sort());
    expect((await store.read(key, "alpha", done[1]!.blobId)).equals(data[1]!)).toBe(true);
  });

  it("an aborted new blob leaves nothing behind, whether it was still in memory or already streaming to a file", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const key = newDataKey();
    await store.prepareSegment("alpha");
    for (const size of [10_000, 400_000]) {
      const w = store.newBlob(key, "alpha");
      w.input.write(randomBytes(size));
      await new Promise((r) => setTimeout(r, 20)); // the large one's file is open by now
      w.abort(new Error("association aborted"));
      await expect(w.done).rejects.toThrow("association aborted");
    }
    const names = await readdir(path.join(dir, "alpha"));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/\.seg\.open$/);
    expect((await readFile(path.join(dir, "alpha", names[0]!))).every((b) => b === 0)).toBe(true);
    await store.close();
  });

  it("after a crash, a small blob in a segment still open is kept when it checks out and discarded when it does not", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const key = newDataKey();
    const store = new BlobStore(dir);
    await store.prepareSegment("alpha");
    const ids: string[] = [];
    for (const size of [20_000, 20_000]) {
      const w = store.newBlob(key, "alpha");
      w.input.end(randomBytes(size));
      ids.push((await w.done).blobId);
    }
    const [whole, short] = ids as [string, string];
    await store.close();
    // As a crash leaves it: the segment still open, and the second blob's bytes never reached the disk.
    const { segment, offset, length } = parseSegmentRef(short)!;
    await rename(path.join(dir, "alpha", `${segment}.seg`), path.join(dir, "alpha", `${segment}.seg.open`));
    const file = await readFile(path.join(dir, "alpha", `${segment}.seg.open`));
    file.fill(0, offset + 100, offset + length);
    await writeFile(path.join(dir, "alpha", `${segment}.seg.open`), file);

    const after = new BlobStore(dir);
    expect(await after.recover(async () => key, "alpha", whole)).toBe("in place");
    expect(await after.recover(async () => key, "alpha", short)).toBe("discarded");
    expect(await after.exists("alpha", short)).toBe(false);
    expect(await after.recover(async () => key, "alpha", segmentRef({ segment: randomUUID(), offset: 0, length: 100 }))).toBe("absent");
    // Once an earlier run's open segment is sealed, its blobs are trusted without being read.
    await after.sweepStalePartials(Date.now() + 2 * 3600_000);
    expect(await readdir(path.join(dir, "alpha"))).toEqual([`${segment}.seg`]);
    expect(await after.recover(() => Promise.reject(new Error("not read")), "alpha", whole)).toBe("in place");
  });

  it("a small blob goes with its record: after a crash, an intact one is found with it, a deleted or torn one is not, and the segment stays open until the blob is recorded", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const key = newDataKey();
    const store = new BlobStore(dir);
    await store.prepareSegment("alpha");
    let recorded!: () => void;
    const rowCommitted = new Promise<void>((resolve) => (recorded = resolve));
    const stored = [];
    for (const [i, size] of [5000, 6000, 7000].entries()) {
      const w = store.newBlob(key, "alpha");
      w.setRecord({ sopInstanceUid: `1.2.3.${i}` }, i === 0 ? rowCommitted : undefined);
      const data = randomBytes(size);
      w.input.end(data);
      stored.push({ data, ...(await w.done) });
    }
    expect(stored.every((s) => s.recoverable)).toBe(true);
    // The first blob's row has not committed: closing does not seal its segment.
    await store.close();
    const names = await readdir(path.join(dir, "alpha"));
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/\.seg\.open$/);
    // As a crash leaves it, besides: the second blob deleted (acked), the third's bytes never past their start.
    const after = new BlobStore(dir);
    await after.delete("alpha", stored[1]!.blobId);
    const torn = parseSegmentRef(stored[2]!.blobId)!;
    const file = path.join(dir, "alpha", names[0]!);
    const bytes = await readFile(file);
    bytes.fill(0, torn.offset + 100, torn.offset + torn.length);
    await writeFile(file, bytes);

    expect(await after.recordedInOpenSegments(async () => key)).toEqual([
      { slug: "alpha", blobId: stored[0]!.blobId, record: { sopInstanceUid: "1.2.3.0", sizeBytes: 5000, sha256: createHash("sha256").update(stored[0]!.data).digest("hex") } },
    ]);
    expect(await after.exists("alpha", stored[2]!.blobId)).toBe(false); // zeroed
    // Records are sealed with the tenant's key: another key finds none.
    expect(await after.recordedInOpenSegments(async () => newDataKey())).toEqual([]);
    // Once the first blob is recorded, its segment is sealed.
    recorded();
    await until(() => readdir(path.join(dir, "alpha")), (n) => n.length === 1 && n[0]!.endsWith(".seg"));
  });

  it("seals a full segment once its writes are synced, and removes a sealed one no live result refers to", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const key = newDataKey();
    await store.prepareSegment("alpha");
    const blobIds: string[] = [];
    // 250 kB each (a 248 KiB region): 66 fill a 16 MiB segment.
    for (let i = 0; i < 70; i++) {
      const w = store.newBlob(key, "alpha");
      w.input.end(randomBytes(250_000));
      blobIds.push((await w.done).blobId);
    }
    const first = parseSegmentRef(blobIds[0]!)!.segment;
    expect(blobIds.slice(0, 66).every((id) => parseSegmentRef(id)?.segment === first)).toBe(true);
    await until(() => readdir(path.join(dir, "alpha")), (names) => names.includes(`${first}.seg`));
    const later = Date.now() + 11 * 60_000;
    expect(await store.collectSegments(async () => new Set([first]), later)).toBe(0);
    expect(await store.collectSegments(async () => new Set(), Date.now())).toBe(0); // too recent
    expect(await store.collectSegments(async () => new Set(), later)).toBe(1);
    const names = await readdir(path.join(dir, "alpha"));
    expect(names).not.toContain(`${first}.seg`);
    // The segment still being written is never collected.
    expect(names.some((n) => n.endsWith(".seg.open"))).toBe(true);
    await store.close();
  });

  it("sweeps temporary files left by an earlier run, but not recent ones (another engine's writes)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    await mkdir(path.join(dir, "alpha"));
    for (const f of ["old.partial", "recent.partial", "kept"]) await writeFile(path.join(dir, "alpha", f), "x");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(dir, "alpha", "old.partial"), twoHoursAgo, twoHoursAgo);
    await utimes(path.join(dir, "alpha", "kept"), twoHoursAgo, twoHoursAgo);
    expect(await new BlobStore(dir).sweepStalePartials()).toBe(1);
    expect((await readdir(path.join(dir, "alpha"))).sort()).toEqual(["kept", "recent.partial"]);
  });

  it("wraps data keys with the master key, bound to the tenant", () => {
    const master = parseMasterKey(randomBytes(32).toString("base64"));
    const dk = newDataKey();
    const wrapped = wrapKey(master, "alpha", dk);
    expect(unwrapKey(master, "alpha", wrapped).equals(dk)).toBe(true);
    expect(() => unwrapKey(master, "bravo", wrapped)).toThrow();
    expect(() => unwrapKey(parseMasterKey(randomBytes(32).toString("base64")), "alpha", wrapped)).toThrow();
    expect(() => parseMasterKey("c2hvcnQ=")).toThrow(/32 bytes/);
  });
});
