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
  /** Records appended in this turn of the event loop: written as ONE sealed line (one seal, one write). */
  private queued: { record: SpooledRecord; done: (error?: Error | null) => void }[] = [];

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

  /**
   * Resolves once the record's line is handed to the OS. Records appended in the same turn of the event loop share
   * one line (`{"g": [...]}`, sealed once), so a busy stream seals and writes per turn, not per record.
   */
  append(record: SpooledRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.writeQueued());
      this.queued.push({ record, done: (error) => (error ? reject(error) : resolve()) });
    });
  }

  private writeQueued(): void {
    const items = this.queued;
    this.queued = [];
    if (items.length === 0) return;
    if (this.stream.writableEnded) {
      for (const item of items) item.done(new Error(`spool ${path.basename(this.file)} is closed`));
      return;
    }
    const line = this.cipher
      .encrypt(
        Buffer.from(
          JSON.stringify({
            g: items.map(({ record }) => ({
              r: record.recordId,
              a: record.arrival,
              d: record.data.toString("base64"),
              ...(record.errorLine ? { e: 1 } : {}),
            })),
          }),
        ),
      )
      .toString("base64");
    this.stream.write(`${line}\n`, (error) => {
      for (const item of items) item.done(error);
    });
  }

  close(): Promise<void> {
    this.writeQueued();
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
      type Line = { r: string; a: number; d: string; e?: 1 };
      const value = JSON.parse(cipher.decrypt(Buffer.from(line, "base64")).toString("utf8")) as
        Line | { g: Line[] };
      // One record per line, or a group of the records appended in one turn (`append`).
      for (const one of "g" in value ? value.g : [value]) {
        const record: SpooledRecord = {
          recordId: one.r,
          arrival: one.a,
          data: Buffer.from(one.d, "base64"),
        };
        if (one.e === 1) record.errorLine = true;
        records.push(record);
      }
    } catch {
      skipped++;
    }
  }
  return { batchId: path.basename(file).slice(0, -".spool".length), file, records, skipped };
}
