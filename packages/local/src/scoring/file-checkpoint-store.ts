import fs from "node:fs";
import path from "node:path";
import type { CheckpointStore } from "@driftwatch/core/ports/checkpoint-store";

/** Model checkpoints and presence snapshots as files under `$DATA_DIR/checkpoints/` (atomic replace). */
export class FileCheckpointStore implements CheckpointStore {
  constructor(private readonly dir: string) {}

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
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, bytes);
    await fs.promises.rename(tmp, file);
  }

  private fileOf(key: string): string {
    const file = path.resolve(this.dir, key);
    if (!file.startsWith(path.resolve(this.dir) + path.sep))
      throw new RangeError("checkpoint key escapes the directory");
    return file;
  }
}
