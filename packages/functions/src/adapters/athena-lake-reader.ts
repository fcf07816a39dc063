import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type Row,
} from "@aws-sdk/client-athena";
import type { ArchivedVerdict } from "@driftwatch/core/backtest/archived-verdicts";
import {
  READINGS_COLUMNS,
  SCORES_COLUMNS,
  readingFromRow,
  readingsQuery,
  readingsQueryParameters,
  scoresQuery,
  verdictFromRow,
  type ReadingsRow,
  type ScoresRow,
} from "@driftwatch/core/backtest/lake-query";
import { RangeTooLargeError, type LakeRange, type LakeReader } from "@driftwatch/core/ports/lake-reader";
import { DriftwatchError } from "@driftwatch/core/shared/errors";
import type { Reading } from "@driftwatch/core/telemetry/reading";
import { toDriftwatchError } from "./aws-errors.ts";

export interface AthenaLakeReaderConfig {
  /** Glue database holding the `readings` table. */
  database: string;
  /** Athena workgroup (its own encrypted results location and bytes-scanned cutoff). */
  workGroup: string;
  /** Most readings one request may return; more → `RangeTooLargeError`. */
  maxReadings: number;
  /** Most bytes one query may scan (the workgroup enforces its cutoff too); more → `RangeTooLargeError`. */
  maxBytesScanned?: number;
  /** Give up (and stop the query) after this long, ms, well inside the Lambda's timeout. */
  maxWaitMs: number;
  /** Between status polls, ms. Default 500. */
  pollMs?: number;
}

/** An Athena query failed (not because of its size). */
export class LakeQueryError extends DriftwatchError {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SQL string literal for an Athena execution parameter. */
export const sqlLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * Reads readings of a range from the lake through Athena: the query text of core's `readingsQuery` (the same text
 * DuckDB runs locally), parameters bound by Athena, results paged with `NextToken`. A range that would return more
 * than `maxReadings` rows, or scans more than allowed (here or by the workgroup's cutoff), fails with
 * `RangeTooLargeError` (the API answers 400 "narrow the range"); a query still running at `maxWaitMs` is stopped
 * and reported, never left to time the Lambda out.
 */
export class AthenaLakeReader implements LakeReader {
  constructor(
    private readonly athena: AthenaClient,
    private readonly config: AthenaLakeReaderConfig,
  ) {}

  async *readReadings(range: LakeRange): AsyncIterable<readonly Reading[]> {
    const ids = range.deviceIds ?? [];
    for await (const cells of this.rows(readingsQuery(ids.length), readingsQueryParameters(range))) {
      yield cells.map((row) => readingFromRow(rowOf(row, READINGS_COLUMNS) as ReadingsRow));
    }
  }

  /** The archived live verdicts of the range: the scores table, the same limits (ADR 0903). */
  async *readVerdicts(range: LakeRange): AsyncIterable<readonly ArchivedVerdict[]> {
    const ids = range.deviceIds ?? [];
    for await (const cells of this.rows(scoresQuery(ids.length), readingsQueryParameters(range))) {
      yield cells.map((row) => verdictFromRow(rowOf(row, SCORES_COLUMNS) as ScoresRow));
    }
  }

  /** Runs a query and pages its result rows (header skipped), refusing more than `maxReadings`. */
  private async *rows(query: string, parameters: string[]): AsyncIterable<Row[]> {
    const id = await this.start(query, parameters);
    await this.waitFor(id);
    let nextToken: string | undefined;
    let seen = 0;
    let header = true;
    do {
      const page = await this.call("GetQueryResults", () =>
        this.athena.send(
          new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: nextToken, MaxResults: 1000 }),
        ),
      );
      let rows = page.ResultSet?.Rows ?? [];
      if (header) {
        rows = rows.slice(1);
        header = false;
      }
      seen += rows.length;
      if (seen > this.config.maxReadings) {
        throw new RangeTooLargeError(
          `the range holds more than ${this.config.maxReadings} readings: narrow the range`,
          { readings: this.config.maxReadings },
        );
      }
      if (rows.length > 0) yield rows;
      nextToken = page.NextToken;
    } while (nextToken);
  }

  private async start(query: string, parameters: string[]): Promise<string> {
    const out = await this.call("StartQueryExecution", () =>
      this.athena.send(
        new StartQueryExecutionCommand({
          QueryString: query,
          ExecutionParameters: parameters.map(sqlLiteral),
          QueryExecutionContext: { Database: this.config.database },
          WorkGroup: this.config.workGroup,
        }),
      ),
    );
    if (!out.QueryExecutionId) throw new LakeQueryError("Athena returned no query execution id");
    return out.QueryExecutionId;
  }

  private async waitFor(id: string): Promise<void> {
    const deadline = Date.now() + this.config.maxWaitMs;
    for (;;) {
      const { QueryExecution: q } = await this.call("GetQueryExecution", () =>
        this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })),
      );
      const state = q?.Status?.State;
      const scanned = q?.Statistics?.DataScannedInBytes ?? 0;
      const max = this.config.maxBytesScanned;
      if (max !== undefined && scanned > max) {
        await this.stop(id);
        throw new RangeTooLargeError(`the range scans more than ${max} bytes: narrow the range`, {
          bytesScanned: max,
        });
      }
      if (state === "SUCCEEDED") return;
      if (state === "FAILED" || state === "CANCELLED") {
        const reason = q?.Status?.StateChangeReason ?? "";
        if (/bytes scanned limit|BytesScannedCutoff/i.test(reason)) {
          throw new RangeTooLargeError(
            "the range scans more than the workgroup allows: narrow the range",
            {},
          );
        }
        throw new LakeQueryError(
          `the lake query ${state.toLowerCase()}: ${q?.Status?.AthenaError?.ErrorType ?? state}`,
        );
      }
      if (Date.now() >= deadline) {
        await this.stop(id);
        throw new RangeTooLargeError(
          `the lake query did not finish within ${Math.round(this.config.maxWaitMs / 1000)} s: narrow the range`,
          {},
        );
      }
      await sleep(this.config.pollMs ?? 500);
    }
  }

  private async stop(id: string): Promise<void> {
    try {
      await this.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    } catch {
      // Best effort: the workgroup's cutoff and Athena's own timeout end it anyway.
    }
  }

  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toDriftwatchError(error, `Athena ${operation}`);
    }
  }
}

/** A result row (cells in the query's column order) by column name, every cell as text. */
function rowOf(row: Row, columns: readonly string[]): Record<string, string | null> {
  const cells = row.Data ?? [];
  const out: Record<string, string | null> = {};
  columns.forEach((column, i) => {
    out[column] = cells[i]?.VarCharValue ?? null;
  });
  return out;
}
