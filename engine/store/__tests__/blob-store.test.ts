import { randomBytes, createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, stat, truncate, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BlobStore } from "../blob-store";
import { newDataKey, parseMasterKey, unwrapKey, wrapKey } from "../encryption";
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

  it("a tenant's next new blob goes into a spare made once the previous one was durable; close() removes it", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const key = newDataKey();
    const first = store.newBlob(key, "alpha");
    first.input.end(randomBytes(1000));
    await first.done;
    // The spare is an empty temporary file, ready before the next instance arrives.
    await until(async () => (await readdir(path.join(dir, "alpha"))).length, (n) => n === 2);
    const [spare] = (await readdir(path.join(dir, "alpha"))).filter((f) => f.endsWith(".partial"));
    expect((await stat(path.join(dir, "alpha", spare!))).size).toBe(0);
    const data = randomBytes(40_000);
    const second = store.newBlob(key, "alpha");
    expect(`${second.id}.partial`).toBe(spare);
    second.input.end(data);
    await second.done;
    expect((await store.read(key, "alpha", second.id)).equals(data)).toBe(true);
    // Another tenant has spares of its own.
    const other = store.newBlob(key, "bravo");
    other.input.end(randomBytes(10));
    await other.done;
    await until(async () => (await readdir(path.join(dir, "bravo"))).length, (n) => n === 2);
    await store.close();
    expect((await readdir(path.join(dir, "alpha"))).sort()).toEqual([first.id, second.id].sort());
    expect(await readdir(path.join(dir, "bravo"))).toEqual([other.id]);
  });

  it("keeps about one spare per association writing to the tenant at once", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "blobs-"));
    const store = new BlobStore(dir);
    const key = newDataKey();
    const burst = async () => {
      const writers = [1, 2, 3].map(() => store.newBlob(key, "alpha"));
      for (const w of writers) w.input.end(randomBytes(2000));
      await Promise.all(writers.map((w) => w.done));
      return writers.map((w) => w.id);
    };
    const spares = async () => (await readdir(path.join(dir, "alpha"))).filter((f) => f.endsWith(".partial")).map((f) => f.slice(0, -".partial".length));
    await burst();
    // Three wrote at once: the first two to finish each left a spare for those still writing.
    const ready = await until(spares, (x) => x.length === 2);
    const second = await burst();
    expect(second.filter((id) => ready.includes(id))).toHaveLength(2);
    await store.close();
    expect(await spares()).toEqual([]);
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
