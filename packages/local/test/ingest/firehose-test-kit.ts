import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from "aws-lambda";
import { readLakeObject } from "../../src/ingest/lake-reader.ts";
import { createZoneCipher, type ZoneCipher } from "../../src/storage/zone-cipher.ts";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `driftwatch-${prefix}-`));
}

/** Every file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => fs.statSync(path.join(dir, name)).isFile())
    .sort();
}

/** Lines of a lake object (gunzipped; opened with the cipher first when it ends in `.enc`). */
export function readLines(file: string, cipher?: ZoneCipher): string[] {
  return readLakeObject(file, cipher)
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "");
}

export function rawCipher(dataDir: string): ZoneCipher {
  return createZoneCipher(path.join(dataDir, "keys"), "raw");
}

/**
 * A stand-in transformation Lambda for testing the emulator's side of the contract (the real handler is
 * tested with the emulator in the integration tests): uppercases each record into zone `readings`, or
 * `errors` when the data starts with "bad"; "drop" → Dropped; "fail" → ProcessingFailed.
 */
export async function upperCaseProcessor(
  event: FirehoseTransformationEvent,
): Promise<FirehoseTransformationResult> {
  return {
    records: event.records.map((record) => {
      const text = Buffer.from(record.data, "base64").toString("utf8");
      if (text.startsWith("drop")) return { recordId: record.recordId, result: "Dropped" as const };
      if (text.startsWith("fail")) return { recordId: record.recordId, result: "ProcessingFailed" as const };
      const iso = new Date(record.approximateArrivalTimestamp).toISOString();
      return {
        recordId: record.recordId,
        result: "Ok" as const,
        data: Buffer.from(text.toUpperCase()).toString("base64"),
        metadata: {
          partitionKeys: {
            zone: text.startsWith("bad") ? "errors" : "readings",
            date: iso.slice(0, 10),
            hour: iso.slice(11, 13),
          },
        },
      };
    }),
  };
}
