import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import type { ZoneCipher } from "../storage/zone-cipher.ts";

/**
 * Reads local lake objects as an authorized S3 reader would see them: `.enc` objects (raw/, errors/firehose/) are
 * opened with the raw zone's cipher, `.gz` objects gunzipped. For tests, benchmarks and operators' scripts.
 */
export function readLakeObject(file: string, rawCipher?: ZoneCipher): Buffer {
  let bytes = fs.readFileSync(file);
  if (file.endsWith(".enc")) {
    if (!rawCipher)
      throw new Error(`${path.basename(file)} is sealed with the raw zone's key; pass its cipher`);
    bytes = rawCipher.decrypt(bytes);
  }
  return file.endsWith(".gz") || file.endsWith(".gz.enc") ? zlib.gunzipSync(bytes) : bytes;
}

/** The NDJSON records of every object under `<lakeDir>/<prefix>` (e.g. `readings`, `errors`), in key order. */
export function readLakeRecords(lakeDir: string, prefix: string, rawCipher?: ZoneCipher): unknown[] {
  const root = path.join(lakeDir, prefix);
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[])
    .sort()
    .map((name) => path.join(root, name))
    .filter((file) => fs.statSync(file).isFile())
    .flatMap((file) =>
      readLakeObject(file, rawCipher)
        .toString("utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as unknown),
    );
}
