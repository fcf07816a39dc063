import crypto from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

/** A lake key that would leave the lake directory or is not a plain relative object key. */
export class InvalidLakeKeyError extends Error {
  override name = "InvalidLakeKeyError";
}

/**
 * Writes lake objects under `lakeDir` with S3 keys as relative paths (`readings/date=…/hour=…/name.gz`).
 * Each write is atomic: the bytes go to a temporary file outside the lake, are flushed to disk, then renamed
 * into place, so readers only ever see whole objects, and writing the same key again replaces the object
 * (a retried flush overwrites instead of duplicating).
 */
export class LakeWriter {
  constructor(
    readonly lakeDir: string,
    private readonly tmpDir: string,
  ) {}

  resolve(key: string): string {
    const segments = key.split("/");
    if (
      key.length === 0 ||
      key.startsWith("/") ||
      key.includes("\\") ||
      segments.some((s) => s === "" || s === "." || s === ".." || s.includes("\0"))
    ) {
      throw new InvalidLakeKeyError(`invalid lake key "${key}"`);
    }
    return path.join(this.lakeDir, ...segments);
  }

  async put(key: string, body: Uint8Array): Promise<string> {
    const file = this.resolve(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    const tmp = path.join(this.tmpDir, `${crypto.randomBytes(8).toString("hex")}.tmp`);
    try {
      const handle = await fs.open(tmp, "w", 0o600);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, file);
    } catch (error) {
      // A failed write (permissions, disk full, rename) never leaves its temporary file behind.
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw error;
    }
    return file;
  }

  /** Removes temporary files left by a process that was killed mid-write (call at start, before writing). */
  async cleanTemporaryFiles(): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.tmpDir);
    } catch {
      return 0;
    }
    const stale = names.filter((name) => name.endsWith(".tmp"));
    await Promise.all(stale.map((name) => fs.rm(path.join(this.tmpDir, name), { force: true })));
    return stale.length;
  }
}
