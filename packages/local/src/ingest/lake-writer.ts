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
    const handle = await fs.open(tmp, "w", 0o600);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    return file;
  }
}
