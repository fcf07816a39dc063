import { ListShardsCommand, PutRecordsCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import type { TickRecord, TickShard } from "@driftwatch/core/scoring/window-tick";
import { TransientError } from "@driftwatch/core/shared/errors";
import { toDriftwatchError } from "./aws-errors.ts";

/** Some window ticks could not be put (after one retry of the failed entries); the schedule's retry puts them. */
export class WindowTickError extends TransientError {}

/**
 * The telemetry stream as the tick schedule needs it (ADR 0606): its open shards (`ListShards`, filter
 * `AT_LATEST`, paged) and a `PutRecords` of ticks, each routed by its explicit hash key. Entries that failed
 * (throttled) are retried once; what still fails is a `WindowTickError` naming the shards and the last error code.
 * A failed call is a `TransientError` (throttling, 5xx) or a `ConfigurationError` (access denied, no such stream).
 */
export class KinesisWindowTicks {
  constructor(
    private readonly client: KinesisClient,
    private readonly streamArn: string,
  ) {}

  async openShards(): Promise<TickShard[]> {
    const shards: TickShard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client
        .send(
          nextToken
            ? new ListShardsCommand({ NextToken: nextToken })
            : new ListShardsCommand({ StreamARN: this.streamArn, ShardFilter: { Type: "AT_LATEST" } }),
        )
        .catch((error: unknown) => {
          throw toDriftwatchError(error, "kinesis ListShards");
        });
      for (const s of page.Shards ?? []) {
        if (s.ShardId && s.HashKeyRange?.StartingHashKey) {
          shards.push({ shardId: s.ShardId, startingHashKey: s.HashKeyRange.StartingHashKey });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return shards;
  }

  /** Puts the ticks (at most 500, one `PutRecords`; a stream has far fewer open shards than that per call). */
  async put(records: readonly TickRecord[]): Promise<void> {
    let pending = [...records];
    let lastCode: string | undefined;
    for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
      const failed: TickRecord[] = [];
      for (let i = 0; i < pending.length; i += 500) {
        const chunk = pending.slice(i, i + 500);
        const out = await this.client
          .send(
            new PutRecordsCommand({
              StreamARN: this.streamArn,
              Records: chunk.map((r) => ({
                Data: r.data,
                PartitionKey: r.partitionKey,
                ExplicitHashKey: r.explicitHashKey,
              })),
            }),
          )
          .catch((error: unknown) => {
            throw toDriftwatchError(error, "kinesis PutRecords");
          });
        (out.Records ?? []).forEach((entry, j) => {
          if (entry.ErrorCode) {
            failed.push(chunk[j]);
            lastCode = entry.ErrorCode;
          }
        });
      }
      pending = failed;
    }
    if (pending.length > 0) {
      throw new WindowTickError(
        `${pending.length} window tick(s) not put (${lastCode ?? "unknown"}): ${pending.map((r) => r.shardId).join(", ")}`,
        { code: "WINDOW_TICK_NOT_PUT" },
      );
    }
  }
}
