import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { RangeTooLargeError } from "@driftwatch/core/ports/lake-reader";
import { AthenaLakeReader } from "../../src/adapters/athena-lake-reader.ts";

const athena = mockClient(AthenaClient);
// The unit pool is not isolated: restore the SDK's own send() for the next file in this worker.
afterAll(() => athena.restore());
const header = {
  Data: [
    "deviceid",
    "ts",
    "receivedat",
    "topic",
    "source",
    "site",
    "manufacturer",
    "model",
    "metrics",
    "tags",
    "readingid",
  ].map((v) => ({ VarCharValue: v })),
};
const row = (i: number) => ({
  Data: [
    "d1",
    `2024-05-01T00:0${i}:00.000Z`,
    `2024-05-01T00:0${i}:01.000Z`,
    "dt/s/d1/telemetry",
    "canonical",
    "s",
    "acme",
    "p100",
    `{"pressure":${i}}`,
    "{}",
  ]
    .map((v): { VarCharValue?: string } => ({ VarCharValue: v }))
    // Athena leaves a NULL cell empty: readings written before `readingId` existed have none.
    .concat(i === 2 ? [{}] : [{ VarCharValue: `rd_${i}` }]),
});
const config = {
  database: "driftwatch_dev_lake",
  workGroup: "driftwatch-dev",
  maxReadings: 5,
  maxWaitMs: 5_000,
  pollMs: 0,
};
const range = { fromMs: Date.UTC(2024, 4, 1), toMs: Date.UTC(2024, 4, 1, 1), deviceIds: ["d1", "it's"] };

async function collect(reader: AthenaLakeReader) {
  const out = [];
  for await (const page of reader.readReadings(range)) out.push(...page);
  return out;
}

describe("AthenaLakeReader", () => {
  beforeEach(() => athena.reset());

  it("runs the pinned query text with bound, quoted parameters in the workgroup, and pages the results", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-1" });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: "RUNNING" } } })
      .resolves({
        QueryExecution: { Status: { State: "SUCCEEDED" }, Statistics: { DataScannedInBytes: 10 } },
      });
    athena
      .on(GetQueryResultsCommand, { QueryExecutionId: "q-1", NextToken: undefined })
      .resolves({ ResultSet: { Rows: [header, row(0), row(1)] }, NextToken: "t2" })
      .on(GetQueryResultsCommand, { QueryExecutionId: "q-1", NextToken: "t2" })
      .resolves({ ResultSet: { Rows: [row(2)] } });
    const readings = await collect(new AthenaLakeReader(new AthenaClient({}), config));
    const start = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
    expect(start.QueryString).toBe(
      'SELECT deviceid, ts, receivedat, topic, source, site, manufacturer, model, metrics, tags, readingid FROM readings WHERE "date" BETWEEN ? AND ? AND ts >= ? AND ts < ? AND deviceid IN (?, ?) ORDER BY ts',
    );
    expect(start.ExecutionParameters).toEqual([
      "'2024-04-30'",
      "'2024-05-02'",
      "'2024-05-01T00:00:00.000Z'",
      "'2024-05-01T01:00:00.000Z'",
      "'d1'",
      "'it''s'",
    ]);
    expect(start.WorkGroup).toBe("driftwatch-dev");
    expect(start.QueryExecutionContext).toEqual({ Database: "driftwatch_dev_lake" });
    expect(readings.map((r) => r.metrics.pressure)).toEqual([0, 1, 2]);
    expect(readings[0]).toMatchObject({
      deviceId: "d1",
      manufacturer: "acme",
      site: "s",
      tags: {},
      readingId: "rd_0",
    });
    expect(readings[2].readingId).toBeUndefined();
  });

  it("refuses more readings than configured with RangeTooLargeError", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-2" });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "SUCCEEDED" } } });
    athena
      .on(GetQueryResultsCommand)
      .resolves({ ResultSet: { Rows: [header, ...[0, 1, 2, 3, 4, 5].map(row)] } });
    await expect(collect(new AthenaLakeReader(new AthenaClient({}), config))).rejects.toBeInstanceOf(
      RangeTooLargeError,
    );
  });

  it("maps the workgroup's bytes-scanned cutoff and its own limit to RangeTooLargeError, stopping the query", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-3" });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: { State: "FAILED", StateChangeReason: "Query cancelled! : Bytes scanned limit was exceeded" },
      },
    });
    await expect(collect(new AthenaLakeReader(new AthenaClient({}), config))).rejects.toBeInstanceOf(
      RangeTooLargeError,
    );
    athena.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-4" });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: "RUNNING" }, Statistics: { DataScannedInBytes: 2_000 } },
    });
    await expect(
      collect(new AthenaLakeReader(new AthenaClient({}), { ...config, maxBytesScanned: 1_000 })),
    ).rejects.toBeInstanceOf(RangeTooLargeError);
    expect(athena.commandCalls(StopQueryExecutionCommand)[0].args[0].input).toEqual({
      QueryExecutionId: "q-4",
    });
  });

  it("stops a query still running at the deadline instead of timing out silently", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-5" });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "RUNNING" } } });
    await expect(
      collect(new AthenaLakeReader(new AthenaClient({}), { ...config, maxWaitMs: 0 })),
    ).rejects.toThrow(/did not finish/);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  it("reads the archived live verdicts with the pinned scores query text, numbers and JSON cells decoded", async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "q-s" });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: "SUCCEEDED" }, Statistics: { DataScannedInBytes: 10 } },
    });
    const cells = (values: string[]) => ({ Data: values.map((v) => ({ VarCharValue: v })) });
    athena.on(GetQueryResultsCommand, { QueryExecutionId: "q-s" }).resolves({
      ResultSet: {
        Rows: [
          cells(["deviceid", "ts", "receivedat", "metrics", "score", "grade", "attribution", "detection"]),
          cells([
            "d1",
            "2024-05-01T00:01:00.000Z",
            "2024-05-01T00:01:01.000Z",
            '{"pressure":1}',
            "1.25E0",
            "0.5",
            '[{"metric":"pressure","value":1,"contribution":1.25,"direction":"HIGH"}]',
            '{"anomaly":true,"newEpisode":true,"calibrated":true}',
          ]),
        ],
      },
    });
    const verdicts = [];
    for await (const page of new AthenaLakeReader(new AthenaClient({}), config).readVerdicts(range))
      verdicts.push(...page);
    const start = athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input;
    expect(start.QueryString).toBe(
      'SELECT deviceid, ts, receivedat, metrics, score, grade, attribution, detection FROM scores WHERE "date" BETWEEN ? AND ? AND ts >= ? AND ts < ? AND detection IS NOT NULL AND deviceid IN (?, ?)',
    );
    expect(start.ExecutionParameters).toEqual([
      "'2024-04-30'",
      "'2024-05-02'",
      "'2024-05-01T00:00:00.000Z'",
      "'2024-05-01T01:00:00.000Z'",
      "'d1'",
      "'it''s'",
    ]);
    expect(verdicts).toEqual([
      {
        deviceId: "d1",
        ts: "2024-05-01T00:01:00.000Z",
        receivedAt: "2024-05-01T00:01:01.000Z",
        metrics: { pressure: 1 },
        score: 1.25,
        grade: 0.5,
        attribution: [{ metric: "pressure", value: 1, contribution: 1.25, direction: "HIGH" }],
        detection: { anomaly: true, newEpisode: true, calibrated: true },
      },
    ]);
  });
});
