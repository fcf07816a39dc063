import fs from "node:fs";
import path from "node:path";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import type { ArchivedVerdict } from "@driftwatch/core/backtest/archived-verdicts";
import {
  readingFromRow,
  readingsQuery,
  readingsQueryParameters,
  scoresQuery,
  verdictFromRow,
  type ReadingsRow,
  type ScoresRow,
} from "@driftwatch/core/backtest/lake-query";
import { RangeTooLargeError, type LakeRange, type LakeReader } from "@driftwatch/core/ports/lake-reader";
import type { Reading } from "@driftwatch/core/telemetry/reading";

export interface DuckDbLakeReaderOptions {
  /** Most readings one request may return (like the Athena reader's limit). Default 2,000,000. */
  maxReadings?: number;
  /** Rows per page handed to the engine. Default 10,000. */
  pageSize?: number;
  /**
   * Rows the reader keeps loaded across requests (both tables). Above it, objects of dates the current request does
   * not need are dropped first. Default 5,000,000.
   */
  maxCachedRows?: number;
}

/** The object formats the lake's `readings/` may hold (DESIGN.md: gzip NDJSON or Parquet). */
export type LakeObjectFormat = "ndjson" | "parquet";

type TableName = "readings" | "scores";

const HIVE = `hive_partitioning = true, hive_types = {'date': 'VARCHAR', 'hour': 'VARCHAR'}`;
const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;
const fileList = (files: readonly string[]) => `[${files.map(sqlText).join(", ")}]`;

/**
 * The SELECT that turns lake objects of one format into the Glue table's columns (ADR 0900/0901), plus the object's
 * path: `readings` from gzip NDJSON (the transform's camelCase readings) or Parquet (the Glue columns, as Firehose
 * record-format conversion writes them); `scores` from the scores archive's gzip NDJSON. `metrics`, `tags`,
 * `attribution` and `detection` as JSON text; `date`/`hour` from the object keys (hive partitions, kept as text as
 * Athena's projected partitions are).
 */
export function lakeObjectsSelect(
  table: TableName,
  format: LakeObjectFormat,
  files: readonly string[],
): string {
  if (table === "scores") {
    return `SELECT deviceId AS deviceid, ts, receivedAt AS receivedat, CAST(metrics AS VARCHAR) AS metrics, score, grade,
       CAST(attribution AS VARCHAR) AS attribution, CAST(detection AS VARCHAR) AS detection, "date", "hour", filename
FROM read_json(${fileList(files)}, format = 'newline_delimited', compression = 'gzip', ${HIVE}, filename = true,
  columns = {deviceId: 'VARCHAR', ts: 'VARCHAR', receivedAt: 'VARCHAR', metrics: 'JSON', score: 'DOUBLE',
             grade: 'DOUBLE', attribution: 'JSON', detection: 'JSON'})`;
  }
  if (format === "parquet") {
    return `SELECT deviceid, ts, receivedat, topic, source, site, manufacturer, model,
       CAST(metrics AS VARCHAR) AS metrics, CAST(tags AS VARCHAR) AS tags, readingid, "date", "hour", filename
FROM read_parquet(${fileList(files)}, ${HIVE}, filename = true)`;
  }
  return `SELECT deviceId AS deviceid, ts, receivedAt AS receivedat, topic, source, site, manufacturer, model,
       CAST(metrics AS VARCHAR) AS metrics, CAST(tags AS VARCHAR) AS tags, readingId AS readingid, "date", "hour",
       filename
FROM read_json(${fileList(files)}, format = 'newline_delimited', compression = 'gzip', ${HIVE}, filename = true,
  columns = {deviceId: 'VARCHAR', ts: 'VARCHAR', receivedAt: 'VARCHAR', topic: 'VARCHAR', source: 'VARCHAR',
             site: 'VARCHAR', manufacturer: 'VARCHAR', model: 'VARCHAR', metrics: 'JSON', tags: 'JSON',
             readingId: 'VARCHAR'})`;
}

/** The loaded objects of a table (the view the query text runs on selects the Glue columns from it). */
const TABLE_DDL: Record<TableName, string> = {
  readings: `CREATE TABLE readings_objects (deviceid VARCHAR, ts VARCHAR, receivedat VARCHAR, topic VARCHAR,
  source VARCHAR, site VARCHAR, manufacturer VARCHAR, model VARCHAR, metrics VARCHAR, tags VARCHAR, readingid VARCHAR,
  "date" VARCHAR, "hour" VARCHAR, filename VARCHAR);
CREATE VIEW readings AS SELECT deviceid, ts, receivedat, topic, source, site, manufacturer, model, metrics, tags,
  readingid, "date", "hour" FROM readings_objects`,
  scores: `CREATE TABLE scores_objects (deviceid VARCHAR, ts VARCHAR, receivedat VARCHAR, metrics VARCHAR, score DOUBLE,
  grade DOUBLE, attribution VARCHAR, detection VARCHAR, "date" VARCHAR, "hour" VARCHAR, filename VARCHAR);
CREATE VIEW scores AS SELECT deviceid, ts, receivedat, metrics, score, grade, attribution, detection, "date", "hour"
  FROM scores_objects`,
};

interface LoadedObject {
  /** mtime and size when loaded: an object rewritten in place (a retried flush) is loaded again. */
  signature: string;
  date: string;
  rows: number;
}

/**
 * Local mode's lake reader: DuckDB (embedded, in process) runs the same query text as Athena (`readingsQuery`,
 * `scoresQuery` from core) over views with the Glue tables' columns (ADR 0901). The views select from tables of the
 * lake objects loaded so far: a request loads only the objects of its date partitions that are new or changed since
 * the last request (the lake's objects are immutable once renamed into place, or rewritten whole), so a kept reader
 * (local mode's API keeps one) answers a device's range from memory instead of parsing every device's objects again.
 */
export class DuckDbLakeReader implements LakeReader {
  private connection?: Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }>;
  private readonly loaded: Record<TableName, Map<string, LoadedObject>> = {
    readings: new Map(),
    scores: new Map(),
  };
  /** One request's load at a time (a concurrent one waits, then sees what the first loaded). */
  private loading: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly lakeDir: string,
    private readonly options: DuckDbLakeReaderOptions = {},
  ) {}

  /** Runs the readings query for a range and returns its rows as Athena returns them (every column as text). */
  async queryRows(range: LakeRange): Promise<ReadingsRow[]> {
    const connection = await this.prepare("readings", range);
    const ids = range.deviceIds ?? [];
    const reader = await connection.runAndReadAll(readingsQuery(ids.length), readingsQueryParameters(range));
    return reader.getRowObjectsJS() as unknown as ReadingsRow[];
  }

  /** Runs the scores (archived verdicts) query for a range. */
  async queryScoreRows(range: LakeRange): Promise<ScoresRow[]> {
    const connection = await this.prepare("scores", range);
    const ids = range.deviceIds ?? [];
    const reader = await connection.runAndReadAll(scoresQuery(ids.length), readingsQueryParameters(range));
    return reader.getRowObjectsJS() as unknown as ScoresRow[];
  }

  async *readReadings(range: LakeRange): AsyncIterable<readonly Reading[]> {
    const rows = this.bounded(await this.queryRows(range));
    const pageSize = this.options.pageSize ?? 10_000;
    for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize).map(readingFromRow);
  }

  async *readVerdicts(range: LakeRange): AsyncIterable<readonly ArchivedVerdict[]> {
    const rows = this.bounded(await this.queryScoreRows(range));
    const pageSize = this.options.pageSize ?? 10_000;
    for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize).map(verdictFromRow);
  }

  close(): void {
    void this.connection?.then(({ instance, connection }) => {
      connection.closeSync();
      instance.closeSync();
    });
    this.connection = undefined;
    this.loaded.readings.clear();
    this.loaded.scores.clear();
  }

  private bounded<T>(rows: T[]): T[] {
    const max = this.options.maxReadings ?? 2_000_000;
    if (rows.length > max) {
      throw new RangeTooLargeError(
        `the range holds ${rows.length} readings, more than the ${max} one request may read: narrow the range`,
        { readings: max },
      );
    }
    return rows;
  }

  /** Loads the table's new or changed objects of the range's date partitions; the connection to query. */
  private async prepare(table: TableName, range: LakeRange): Promise<DuckDBConnection> {
    const { connection } = await this.connect();
    const [fromDate, toDate] = readingsQueryParameters(range);
    const run = this.loading.then(() => this.load(connection, table, fromDate, toDate));
    this.loading = run.catch(() => undefined);
    await run;
    return connection;
  }

  private async load(connection: DuckDBConnection, table: TableName, fromDate: string, toDate: string) {
    const loaded = this.loaded[table];
    const present = listObjects(path.join(this.lakeDir, table), fromDate, toDate);
    const stale: string[] = [];
    const fresh: { file: string; date: string; signature: string }[] = [];
    for (const [file, object] of loaded) {
      if (object.date < fromDate || object.date > toDate) continue;
      if (present.get(file)?.signature !== object.signature) stale.push(file);
    }
    for (const [file, object] of present) {
      if (loaded.get(file)?.signature !== object.signature) fresh.push({ file, ...object });
    }
    // Keep the cache bounded: objects of dates this request does not need go first.
    const cap = this.options.maxCachedRows ?? 5_000_000;
    let cached = 0;
    for (const t of ["readings", "scores"] as const)
      for (const o of this.loaded[t].values()) cached += o.rows;
    if (cached > cap) {
      for (const [file, object] of loaded) {
        if (object.date < fromDate || object.date > toDate) stale.push(file);
      }
    }
    if (stale.length > 0) {
      await connection.run(
        `DELETE FROM ${table}_objects WHERE filename IN (SELECT unnest(${fileList(stale)}))`,
      );
      for (const file of stale) loaded.delete(file);
    }
    for (const format of ["ndjson", "parquet"] as const) {
      const files = fresh.filter((f) => formatOf(f.file) === format);
      if (files.length === 0 || (table === "scores" && format === "parquet")) continue;
      await connection.run(
        `INSERT INTO ${table}_objects ${lakeObjectsSelect(
          table,
          format,
          files.map((f) => f.file),
        )}`,
      );
    }
    if (fresh.length > 0) {
      const counts = await connection.runAndReadAll(
        `SELECT filename, count(*)::INTEGER AS n FROM ${table}_objects WHERE filename IN (SELECT unnest(${fileList(
          fresh.map((f) => f.file),
        )})) GROUP BY filename`,
      );
      const rows = new Map(
        (counts.getRowObjectsJS() as { filename: string; n: number }[]).map((r) => [r.filename, r.n]),
      );
      for (const f of fresh)
        loaded.set(f.file, { signature: f.signature, date: f.date, rows: rows.get(f.file) ?? 0 });
    }
  }

  private connect() {
    this.connection ??= (async () => {
      // Loaded on first use: the native engine stays out of processes that never query the lake.
      const { DuckDBInstance } = await import("@duckdb/node-api");
      const instance = await DuckDBInstance.create(":memory:", { threads: "1" });
      const connection = await instance.connect();
      for (const ddl of Object.values(TABLE_DDL)) await connection.run(ddl);
      return { instance, connection };
    })();
    return this.connection;
  }
}

function formatOf(file: string): LakeObjectFormat | undefined {
  if (file.endsWith(".gz")) return "ndjson";
  if (file.endsWith(".parquet")) return "parquet";
  return undefined;
}

/** The objects (gzip NDJSON or Parquet) under `root/date=D/hour=H/` with `fromDate <= D <= toDate`. */
function listObjects(
  root: string,
  fromDate: string,
  toDate: string,
): Map<string, { date: string; signature: string }> {
  const out = new Map<string, { date: string; signature: string }>();
  let dates: string[];
  try {
    dates = fs.readdirSync(root);
  } catch {
    return out;
  }
  for (const dateDir of dates) {
    const date = dateDir.startsWith("date=") ? dateDir.slice(5) : undefined;
    if (date === undefined || date < fromDate || date > toDate) continue;
    for (const hourDir of fs.readdirSync(path.join(root, dateDir))) {
      if (!hourDir.startsWith("hour=")) continue;
      const dir = path.join(root, dateDir, hourDir);
      for (const name of fs.readdirSync(dir)) {
        const file = path.join(dir, name);
        if (formatOf(file) === undefined) continue;
        const stat = fs.statSync(file, { throwIfNoEntry: false });
        if (stat?.isFile()) out.set(file, { date, signature: `${stat.mtimeMs}:${stat.size}` });
      }
    }
  }
  return out;
}
