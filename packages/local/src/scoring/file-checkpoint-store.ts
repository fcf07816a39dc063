import fs from "node:fs";
import path from "node:path";
import type { CheckpointStore } from "@driftwatch/core/ports/checkpoint-store";
import { retryingWrite, writeFileAtomic, type WriteRetryOptions } from "./write-retry.ts";

/**
 * Model checkpoints and presence snapshots as files under `$DATA_DIR/checkpoints/` (atomic replace; a failed
 * write is retried with backoff while running and never leaves its temporary file).
 */
export class FileCheckpointStore implements CheckpointStore {
  constructor(
    private readonly dir: string,
    private readonly retry: WriteRetryOptions = {},
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await fs.promises.readFile(this.fileOf(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.fileOf(key);
    await retryingWrite("checkpoint write", () => writeFileAtomic(file, bytes), this.retry);
  }

  private fileOf(key: string): string {
    const file = path.resolve(this.dir, key);
    if (!file.startsWith(path.resolve(this.dir) + path.sep))
      throw new RangeError("checkpoint key escapes the directory");
    return file;
  }
}
