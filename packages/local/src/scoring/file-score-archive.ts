import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { ScoreArchive } from "@driftwatch/core/ports/score-archive";
import type { ScoredRecord } from "@driftwatch/core/scoring/scored-record";
import { evaluatePrefix, firehoseScoresPrefix } from "@driftwatch/functions/shared/lake-layout";

/**
 * The scores archive of local mode: gzip NDJSON objects under `$DATA_DIR/lake/` with the keys the `scores` Firehose
 * writes on AWS (`scores/date=…/hour=…/`). One object per call, named by shard and first sequence number and
 * partitioned by the first record's arrival, so a retried invocation overwrites its own object.
 */
export class FileScoreArchive implements ScoreArchive {
  constructor(private readonly lakeDir: string) {}

  async putMany(records: readonly ScoredRecord[]): Promise<void> {
    if (records.length === 0) return;
    const first = records[0];
    const prefix = evaluatePrefix(firehoseScoresPrefix, { arrivalMs: Date.parse(first.arrivedAt) });
    const dir = path.join(this.lakeDir, prefix);
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, `scores-${first.shardId}-${first.sequenceNumber}.ndjson.gz`);
    const body = gzipSync(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, body);
    await fs.promises.rename(tmp, file);
  }
}
