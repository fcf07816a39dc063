import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import type { ArchivedVerdict } from "@driftwatch/core/backtest/archived-verdicts";
import { READINGS_COLUMNS, readingsQuery } from "@driftwatch/core/backtest/lake-query";
import { RangeTooLargeError } from "@driftwatch/core/ports/lake-reader";
import type { Reading } from "@driftwatch/core/telemetry/reading";
import { readLakeRecords } from "../../src/ingest/lake-reader.ts";
import { LakeWriter } from "../../src/ingest/lake-writer.ts";
import { DuckDbLakeReader } from "../../src/lake/duckdb-lake-reader.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dw-duck-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const H = 3_600_000;
const T0 = Date.UTC(2024, 4, 1, 22, 0, 0);

function reading(
  deviceId: string,
  ms: number,
  arrivalMs: number,
  value: number,
  extra: Partial<Reading> = {},
): Reading {
  return {
    deviceId,
    ts: new Date(ms).toISOString(),
    receivedAt: new Date(arrivalMs).toISOString(),
    topic: `dt/site-a/${deviceId}/telemetry`,
    source: "canonical",
    site: "site-a",
    manufacturer: "acme",
    model: "p100",
    metrics: { pressure: value, temp: value / 2 },
    tags: {},
    ...extra,
  };
}

/** Writes readings the way the Firehose emulator does: gzip NDJSON objects under readings/date=/hour=/ of arrival. */
async function writeLake(lakeDir: string, readings: Reading[]) {
  const writer = new LakeWriter(lakeDir, path.join(dir, "tmp"));
  const byKey = new Map<string, Reading[]>();
  for (const r of readings) {
    const iso = r.receivedAt;
    const key = `readings/date=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}/ingest-1-${iso.slice(0, 13)}.gz`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  for (const [key, list] of byKey) {
    await writer.put(key, zlib.gzipSync(list.map((r) => JSON.stringify(r)).join("\n") + "\n"));
  }
  // An error object and a raw object must not be read as readings.
  await writer.put("errors/date=2024-05-01/hour=22/e.gz", zlib.gzipSync('{"reason":"UNKNOWN_DEVICE"}\n'));
}

describe("DuckDbLakeReader", () => {
  const lakeDir = path.join(dir, "lake");
  const readings = [
    ...Array.from({ length: 120 }, (_, i) => reading("d1", T0 + i * 60_000, T0 + i * 60_000 + 1_500, i)),
    ...Array.from({ length: 30 }, (_, i) =>
      reading("d2", T0 + i * 120_000, T0 + i * 120_000 + 900, 100 + i, { readingId: `rd_d2_${i}` }),
    ),
    // Late: event time in range, arrival (partition) the next day.
    reading("d1", T0 + 30 * 60_000 + 30_000, T0 + 26 * H, 7.5),
    // Tagged (tokens), no site.
    reading("d3", T0 + 10 * 60_000, T0 + 10 * 60_000 + 100, 1, {
      site: undefined,
      tags: { patient_id: "tok_abc" },
    }),
    // Outside the range.
    reading("d1", T0 - H, T0 - H + 1000, 99),
  ];
  const reader = new DuckDbLakeReader(lakeDir, { pageSize: 50 });
  afterAll(() => reader.close());

  it("returns an empty range when the lake has no readings yet", async () => {
    const empty = new DuckDbLakeReader(path.join(dir, "nothing"));
    const pages: unknown[] = [];
    for await (const page of empty.readReadings({ fromMs: T0, toMs: T0 + H })) pages.push(page);
    expect(pages).toEqual([]);
  });

  it("reads a range over real gzip NDJSON objects: what a plain read of the same files filtered by the same range gives", async () => {
    await writeLake(lakeDir, readings);
    const range = { fromMs: T0, toMs: T0 + 2 * H };
    const got: Reading[] = [];
    let pages = 0;
    for await (const page of reader.readReadings(range)) {
      got.push(...page);
      pages += 1;
    }
    const reference = (readLakeRecords(lakeDir, "readings") as Reading[]).filter(
      (r) => Date.parse(r.ts) >= range.fromMs && Date.parse(r.ts) < range.toMs,
    );
    expect(reference.length).toBe(152);
    const norm = (list: Reading[]) =>
      list
        .map((r) =>
          JSON.stringify(
            Object.entries({ ...r, site: r.site ?? null }).sort(([a], [b]) => a.localeCompare(b)),
          ),
        )
        .sort();
    expect(norm(got)).toEqual(norm(reference));
    expect(pages).toBe(Math.ceil(152 / 50));
    expect(got.find((r) => r.deviceId === "d3")?.tags).toEqual({ patient_id: "tok_abc" });
    expect(got.find((r) => r.deviceId === "d3")?.site).toBeUndefined();
    expect(got.filter((r) => r.deviceId === "d2").every((r) => r.readingId?.startsWith("rd_d2_"))).toBe(true);
    expect(got.find((r) => r.deviceId === "d1")?.readingId).toBeUndefined();
    // In event-time order (the query's ORDER BY).
    expect(got.map((r) => r.ts)).toEqual([...got.map((r) => r.ts)].sort());
  });

  it("filters by device with the same query text as Athena", async () => {
    const rows = await reader.queryRows({ fromMs: T0, toMs: T0 + 2 * H, deviceIds: ["d2", "d3"] });
    expect(rows.length).toBe(31);
    expect(new Set(rows.map((r) => r.deviceid))).toEqual(new Set(["d2", "d3"]));
    expect(Object.keys(rows[0]).sort()).toEqual([...READINGS_COLUMNS].sort());
    expect(readingsQuery(2)).toContain("deviceid IN (?, ?)");
  });

  it("runs the same query over Parquet objects (Firehose record-format conversion's shape) with the same result", async () => {
    // The same readings as Parquet in the Glue table's columns (metrics/tags as JSON text), partitioned by arrival
    // date/hour, written by DuckDB from rows built here (not through the reader's view).
    const parquetLake = path.join(dir, "lake-parquet");
    const rowsFile = path.join(dir, "glue-rows.ndjson");
    fs.mkdirSync(parquetLake, { recursive: true });
    fs.writeFileSync(
      rowsFile,
      readings
        .map((r) =>
          JSON.stringify({
            deviceid: r.deviceId,
            ts: r.ts,
            receivedat: r.receivedAt,
            topic: r.topic,
            source: r.source,
            site: r.site ?? null,
            manufacturer: r.manufacturer,
            model: r.model,
            metrics: JSON.stringify(r.metrics),
            tags: JSON.stringify(r.tags ?? {}),
            readingid: r.readingId ?? null,
            date: r.receivedAt.slice(0, 10),
            hour: r.receivedAt.slice(11, 13),
          }),
        )
        .join("\n") + "\n",
    );
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT * FROM read_json('${rowsFile}', format = 'newline_delimited', columns = {deviceid: 'VARCHAR', ts: 'VARCHAR', receivedat: 'VARCHAR', topic: 'VARCHAR', source: 'VARCHAR', site: 'VARCHAR', manufacturer: 'VARCHAR', model: 'VARCHAR', metrics: 'VARCHAR', tags: 'VARCHAR', readingid: 'VARCHAR', date: 'VARCHAR', hour: 'VARCHAR'}))
       TO '${path.join(parquetLake, "readings")}' (FORMAT parquet, PARTITION_BY (date, hour))`,
    );
    connection.closeSync();
    instance.closeSync();
    const files = (
      fs.readdirSync(path.join(parquetLake, "readings"), { recursive: true }) as string[]
    ).filter((f) => f.endsWith(".parquet"));
    expect(files.length).toBeGreaterThan(1);

    const parquet = new DuckDbLakeReader(parquetLake);
    try {
      for (const range of [
        { fromMs: T0, toMs: T0 + 2 * H },
        { fromMs: T0, toMs: T0 + 2 * H, deviceIds: ["d1", "d3"] },
        { fromMs: T0 + 30 * 60_000, toMs: T0 + 31 * 60_000 },
      ]) {
        const fromNdjson = await reader.queryRows(range);
        const fromParquet = await parquet.queryRows(range);
        expect(fromParquet.length).toBeGreaterThan(0);
        const norm = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
        expect(norm(fromParquet)).toEqual(norm(fromNdjson));
      }
      // Readings back from either shape are the same readings.
      const got: Reading[] = [];
      for await (const page of parquet.readReadings({ fromMs: T0, toMs: T0 + 2 * H })) got.push(...page);
      expect(got).toHaveLength(152);
      expect(got.find((r) => r.deviceId === "d3")?.tags).toEqual({ patient_id: "tok_abc" });
    } finally {
      parquet.close();
    }
  });

  it("refuses a range above its limit with RangeTooLargeError", async () => {
    const small = new DuckDbLakeReader(lakeDir, { maxReadings: 100 });
    try {
      await expect(async () => {
        for await (const _ of small.readReadings({ fromMs: T0, toMs: T0 + 2 * H })) void _;
      }).rejects.toBeInstanceOf(RangeTooLargeError);
    } finally {
      small.close();
    }
  });

  it("a kept reader loads only new or rewritten objects and forgets removed ones (same answers as a fresh reader)", async () => {
    const lake = path.join(dir, "lake-kept");
    const writer = new LakeWriter(lake, path.join(dir, "tmp"));
    const obj = (hour: number, list: Reading[]) =>
      writer.put(
        `readings/date=2024-05-01/hour=${String(hour).padStart(2, "0")}/o.gz`,
        zlib.gzipSync(list.map((r) => JSON.stringify(r)).join("\n") + "\n"),
      );
    const at = (h: number, i: number) => T0 - 22 * H + h * H + i * 60_000;
    await obj(1, [reading("k1", at(1, 0), at(1, 0) + 500, 1), reading("k2", at(1, 1), at(1, 1) + 500, 2)]);
    const kept = new DuckDbLakeReader(lake);
    const range = { fromMs: T0 - 22 * H, toMs: T0, deviceIds: ["k1"] };
    try {
      expect(await kept.queryRows(range)).toHaveLength(1);
      await obj(2, [reading("k1", at(2, 0), at(2, 0) + 500, 3)]);
      expect(await kept.queryRows(range)).toHaveLength(2);
      // A rewritten object (a retried flush) replaces its rows; a removed one is gone.
      await obj(1, [reading("k1", at(1, 0), at(1, 0) + 500, 1), reading("k1", at(1, 2), at(1, 2) + 500, 4)]);
      fs.utimesSync(
        path.join(lake, "readings/date=2024-05-01/hour=01/o.gz"),
        new Date(),
        new Date(Date.now() + 5_000),
      );
      expect(await kept.queryRows(range)).toHaveLength(3);
      fs.rmSync(path.join(lake, "readings/date=2024-05-01/hour=02/o.gz"));
      const rows = await kept.queryRows(range);
      const fresh = new DuckDbLakeReader(lake);
      try {
        expect(rows.map((r) => r.ts).sort()).toEqual((await fresh.queryRows(range)).map((r) => r.ts).sort());
      } finally {
        fresh.close();
      }
      expect(rows).toHaveLength(2);
    } finally {
      kept.close();
    }
  });

  it("reads the archived live verdicts of a device's range from scores/ (records without one are not verdicts)", async () => {
    const lake = path.join(dir, "lake-scores");
    const writer = new LakeWriter(lake, path.join(dir, "tmp"));
    const scored = (deviceId: string, i: number, detection?: object) => ({
      deviceId,
      ts: new Date(T0 + i * 60_000).toISOString(),
      receivedAt: new Date(T0 + i * 60_000 + 900).toISOString(),
      arrivedAt: new Date(T0 + i * 60_000 + 950).toISOString(),
      windowStart: new Date(T0 + i * 60_000).toISOString(),
      shardId: "shardId-000000000000",
      sequenceNumber: String(i),
      modelKey: "acme#p100",
      detectorKey: "acme#p100|pressure",
      manufacturer: "acme",
      model: "p100",
      metrics: { pressure: 3 + i / 100 },
      tags: {},
      score: 0.5 + i / 1000,
      grade: 0.1,
      anomaly: false,
      attribution: [{ metric: "pressure", value: 3 + i / 100, contribution: 0.5, direction: "HIGH" }],
      rules: [],
      latencyMs: 3,
      ...(detection ? { detection } : {}),
    });
    const records = [
      ...Array.from({ length: 5 }, (_, i) =>
        scored("s1", i, { anomaly: i === 3, newEpisode: i === 3, calibrated: true }),
      ),
      scored("s1", 6), // archived before the verdict existed
      scored("s2", 1, { anomaly: false }),
    ];
    await writer.put(
      "scores/date=2024-05-01/hour=22/scores-shardId-000000000000-0.ndjson.gz",
      zlib.gzipSync(records.map((r) => `${JSON.stringify(r)}\n`).join("")),
    );
    const scores = new DuckDbLakeReader(lake);
    try {
      const got: ArchivedVerdict[] = [];
      for await (const page of scores.readVerdicts({ fromMs: T0, toMs: T0 + H, deviceIds: ["s1"] }))
        got.push(...page);
      expect(got.map((v) => v.ts)).toEqual(records.slice(0, 5).map((r) => r.ts));
      expect(got[3]).toEqual({
        deviceId: "s1",
        ts: records[3].ts,
        receivedAt: records[3].receivedAt,
        metrics: records[3].metrics,
        score: records[3].score,
        grade: 0.1,
        attribution: records[3].attribution,
        detection: { anomaly: true, newEpisode: true, calibrated: true },
      });
    } finally {
      scores.close();
    }
  });
});
