import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { ZoneCipher } from "../storage/zone-cipher.ts";

/** A record as Firehose holds it between PutRecord and delivery. */
export interface SpooledRecord {
  recordId: string;
  /** Approximate arrival, epoch ms. */
  arrival: number;
  data: Buffer;
  /**
   * Set for a record that is already an error record (a rejection at the broker or by a rule action): it skips
   * the transformation and lands as is in `errors/`.
   */
  errorLine?: true;
}

/**
 * The Firehose emulator's durable buffer: one append-only file per batch, `<batchId>.spool`, one record per
 * line, each line sealed with the raw zone's key (the records are source payloads: PHI may be in them). A
 * record is acknowledged to the sender only once its line is handed to the OS, the file is removed once the
 * batch is in the lake, and files left behind by a crash are replayed at the next start (under the same batch
 * id, so the lake objects they produce overwrite any partial earlier delivery instead of duplicating it).
 */
export class SpoolFile {
  private readonly stream: fs.WriteStream;

  private constructor(
    readonly file: string,
    private readonly cipher: ZoneCipher,
  ) {
    this.stream = fs.createWriteStream(file, { flags: "a", mode: 0o600 });
  }

  static open(dir: string, batchId: string, cipher: ZoneCipher): SpoolFile {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new SpoolFile(path.join(dir, `${batchId}.spool`), cipher);
  }

  append(record: SpooledRecord): Promise<void> {
    const line = this.cipher
      .encrypt(
        Buffer.from(
          JSON.stringify({
            r: record.recordId,
            a: record.arrival,
            d: record.data.toString("base64"),
            ...(record.errorLine ? { e: 1 } : {}),
          }),
        ),
      )
      .toString("base64");
    return new Promise((resolve, reject) =>
      this.stream.write(`${line}\n`, (error) => (error ? reject(error) : resolve())),
    );
  }

  close(): Promise<void> {
    if (this.stream.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.stream.once("error", reject);
      this.stream.end(() => resolve());
    });
  }

  async remove(): Promise<void> {
    await this.close();
    await fsp.rm(this.file, { force: true });
  }
}

/** Batches left in `dir` by an earlier run, oldest first. Lines that do not open (torn by a crash) are skipped. */
export async function readSpools(
  dir: string,
  cipher: ZoneCipher,
): Promise<{ batchId: string; file: string; records: SpooledRecord[]; skipped: number }[]> {
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((name) => name.endsWith(".spool")).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const batches = [];
  for (const name of names) batches.push(await readSpoolFile(path.join(dir, name), cipher));
  return batches;
}

/** One spool file's records (a batch left behind, or one whose delivery failed and is retried). */
export async function readSpoolFile(
  file: string,
  cipher: ZoneCipher,
): Promise<{ batchId: string; file: string; records: SpooledRecord[]; skipped: number }> {
  const records: SpooledRecord[] = [];
  let skipped = 0;
  for (const line of (await fsp.readFile(file, "utf8")).split("\n")) {
    if (line === "") continue;
    try {
      const value = JSON.parse(cipher.decrypt(Buffer.from(line, "base64")).toString("utf8")) as {
        r: string;
        a: number;
        d: string;
        e?: 1;
      };
      const record: SpooledRecord = {
        recordId: value.r,
        arrival: value.a,
        data: Buffer.from(value.d, "base64"),
      };
      if (value.e === 1) record.errorLine = true;
      records.push(record);
    } catch {
      skipped++;
    }
  }
  return { batchId: path.basename(file).slice(0, -".spool".length), file, records, skipped };
}
