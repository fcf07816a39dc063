import fs from "node:fs";
import path from "node:path";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  readingFromRow,
  readingsQuery,
  readingsQueryParameters,
  type ReadingsRow,
} from "@driftwatch/core/backtest/lake-query";
import { RangeTooLargeError, type LakeRange, type LakeReader } from "@driftwatch/core/ports/lake-reader";
import type { Reading } from "@driftwatch/core/telemetry/reading";

export interface DuckDbLakeReaderOptions {
  /** Most readings one request may return (like the Athena reader's limit). Default 2,000,000. */
  maxReadings?: number;
  /** Rows per page handed to the engine. Default 10,000. */
  pageSize?: number;
}

/** The object formats the lake's `readings/` may hold (DESIGN.md: gzip NDJSON or Parquet). */
export type LakeObjectFormat = "ndjson" | "parquet";

const glob = (lakeDir: string, ext: string) =>
  path.join(lakeDir, "readings", "*", "*", `*${ext}`).replaceAll("'", "''");
const HIVE_TYPES = `hive_partitioning = true, hive_types = {'date': 'VARCHAR', 'hour': 'VARCHAR'}`;

/**
 * The `readings` table over the local lake's objects: the columns of the Glue table (ADR 0900), with `metrics`/`tags`
 * as JSON text and the `date`/`hour` partitions read from the object keys (hive partitioning, kept as text as
 * Athena's projected partitions are). Gzip NDJSON objects hold readings as the transform writes them (camelCase
 * fields, `metrics`/`tags` objects); Parquet objects hold the Glue table's columns, as Firehose record-format
 * conversion writes them. With both present (a lake switched over), the view is their union.
 */
export function readingsViewSql(lakeDir: string, formats: readonly LakeObjectFormat[] = ["ndjson"]): string {
  const selects: string[] = [];
  if (formats.includes("ndjson")) {
    selects.push(`SELECT deviceId AS deviceid, ts, receivedAt AS receivedat, topic, source, site, manufacturer, model,
       CAST(metrics AS VARCHAR) AS metrics, CAST(tags AS VARCHAR) AS tags, readingId AS readingid, "date", "hour"
FROM read_json('${glob(lakeDir, ".gz")}', format = 'newline_delimited', compression = 'gzip', ${HIVE_TYPES},
  columns = {deviceId: 'VARCHAR', ts: 'VARCHAR', receivedAt: 'VARCHAR', topic: 'VARCHAR', source: 'VARCHAR',
             site: 'VARCHAR', manufacturer: 'VARCHAR', model: 'VARCHAR', metrics: 'JSON', tags: 'JSON',
             readingId: 'VARCHAR'})`);
  }
  if (formats.includes("parquet")) {
    selects.push(`SELECT deviceid, ts, receivedat, topic, source, site, manufacturer, model,
       CAST(metrics AS VARCHAR) AS metrics, CAST(tags AS VARCHAR) AS tags, readingid, "date", "hour"
FROM read_parquet('${glob(lakeDir, ".parquet")}', ${HIVE_TYPES})`);
  }
  if (selects.length === 0) throw new RangeError("readingsViewSql needs at least one object format");
  return `CREATE OR REPLACE VIEW readings AS\n${selects.join("\nUNION ALL\n")}`;
}

/**
 * Local mode's lake reader: DuckDB (embedded, in process) runs the same query text as Athena
 * (`readingsQuery` from core) over a view with the Glue table's columns, on gzip NDJSON or Parquet objects.
 */
export class DuckDbLakeReader implements LakeReader {
  private connection?: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }>;
  private viewFormats = "";

  constructor(
    private readonly lakeDir: string,
    private readonly options: DuckDbLakeReaderOptions = {},
  ) {}

  /** Runs the query for a range and returns its rows as Athena returns them (every column as text). */
  async queryRows(range: LakeRange): Promise<ReadingsRow[]> {
    const formats = this.formats();
    if (formats.length === 0) return [];
    const { connection } = await this.connect(formats);
    const ids = range.deviceIds ?? [];
    const reader = await connection.runAndReadAll(readingsQuery(ids.length), readingsQueryParameters(range));
    return reader.getRowObjectsJS() as unknown as ReadingsRow[];
  }

  async *readReadings(range: LakeRange): AsyncIterable<readonly Reading[]> {
    const rows = await this.queryRows(range);
    const max = this.options.maxReadings ?? 2_000_000;
    if (rows.length > max) {
      throw new RangeTooLargeError(
        `the range holds ${rows.length} readings, more than the ${max} one request may read: narrow the range`,
        { readings: max },
      );
    }
    const pageSize = this.options.pageSize ?? 10_000;
    for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize).map(readingFromRow);
  }

  close(): void {
    void this.connection?.then(({ instance, connection }) => {
      connection.closeSync();
      instance.closeSync();
    });
    this.connection = undefined;
    this.viewFormats = "";
  }

  /** The object formats present under `readings/` (a glob over no file is an error in DuckDB). */
  private formats(): LakeObjectFormat[] {
    const root = path.join(this.lakeDir, "readings");
    if (!fs.existsSync(root)) return [];
    const names = fs.readdirSync(root, { recursive: true }) as string[];
    const formats: LakeObjectFormat[] = [];
    if (names.some((name) => name.endsWith(".gz"))) formats.push("ndjson");
    if (names.some((name) => name.endsWith(".parquet"))) formats.push("parquet");
    return formats;
  }

  private connect(formats: readonly LakeObjectFormat[]) {
    const key = formats.join(",");
    if (this.connection && this.viewFormats !== key) {
      // The lake gained a format since the view was made (first Parquet object): remake the view.
      const current = this.connection;
      this.connection = current.then(async (c) => {
        await c.connection.run(readingsViewSql(this.lakeDir, formats));
        return c;
      });
    }
    this.viewFormats = key;
    this.connection ??= (async () => {
      // Loaded on first use: the native engine stays out of processes that never query the lake.
      const { DuckDBInstance } = await import("@duckdb/node-api");
      const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
      const connection = await instance.connect();
      await connection.run(readingsViewSql(this.lakeDir, formats));
      return { instance, connection };
    })();
    return this.connection;
  }
}
