import fs from "node:fs";
import path from "node:path";
import { formatGroundTruthLine, type GroundTruthLabel } from "@driftwatch/core/simulator/ground-truth";

/**
 * The ground-truth JSONL of one run: created (truncated) when the run starts, one line appended per anomaly as
 * soon as it ends, so an interrupted run keeps every label up to that point.
 */
export interface GroundTruthWriter {
  readonly file: string;
  readonly count: number;
  append(labels: readonly GroundTruthLabel[]): void;
  close(): Promise<void>;
}

export function openGroundTruthFile(file: string): GroundTruthWriter {
  const resolved = path.resolve(file);
  fs.mkdirSync(path.dirname(resolved), { recursive: true });
  // Open synchronously so a bad path fails before anything is published.
  const fd = fs.openSync(resolved, "w");
  const stream = fs.createWriteStream(resolved, { fd, flags: "w" });
  let failure: Error | undefined;
  stream.on("error", (error) => {
    failure = error;
  });
  let count = 0;
  return {
    file: resolved,
    get count() {
      return count;
    },
    append(labels) {
      for (const label of labels) {
        stream.write(formatGroundTruthLine(label));
        count++;
      }
    },
    close() {
      return new Promise((resolve, reject) => {
        stream.end(() => (failure ? reject(failure) : resolve()));
      });
    },
  };
}
