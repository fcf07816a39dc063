import { describe, expect, it } from "vitest";
import { NabCsvError, parseNabCsv, parseNabLabels, parseNabTimestamp } from "../../src/nab/index.ts";

describe("NAB CSV and labels", () => {
  it("reads timestamp,value rows and keeps the original text", () => {
    const rows = parseNabCsv("timestamp,value\r\n2014-04-10 16:15:00,1.50\n\n2014-04-10 16:20:00,-2\n");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ timestamp: "2014-04-10 16:15:00", value: 1.5, valueText: "1.50" });
    expect(rows[1].time - rows[0].time).toBe(5 * 60_000);
  });

  it("names the line of a bad row", () => {
    expect(() => parseNabCsv("")).toThrow(NabCsvError);
    expect(() => parseNabCsv("time,val\n")).toThrow(/header/);
    expect(() => parseNabCsv("timestamp,value\n")).toThrow(/no rows/);
    expect(() => parseNabCsv("timestamp,value\n2014-04-10 16:15:00,abc\n")).toThrow(
      /line 2: value is not a finite number/,
    );
    expect(() => parseNabCsv("timestamp,value\n2014-04-10 16:15:00,NaN\n")).toThrow(/line 2/);
    expect(() => parseNabCsv("timestamp,value\nyesterday,1\n")).toThrow(/line 2: timestamp/);
    expect(() => parseNabCsv("timestamp,value\n2014-04-10 16:15:00\n")).toThrow(
      /line 2: expected at least 2 columns/,
    );
  });

  it("keeps rows in file order whatever their timestamps (repeated, stepping back)", () => {
    const rows = parseNabCsv(
      "timestamp,value\n2014-04-10 16:15:00,1\n2014-04-10 16:15:00,2\n2014-04-10 15:20:00,3\n",
    );
    expect(rows.map((r) => r.value)).toEqual([1, 2, 3]);
    expect(rows[2].time).toBe(Date.UTC(2014, 3, 10, 15, 20));
  });

  it("parses NAB timestamps as UTC, with fractions and zones", () => {
    expect(parseNabTimestamp("2014-04-10 16:15:00.000000")).toBe(Date.UTC(2014, 3, 10, 16, 15));
    expect(parseNabTimestamp("2014-04-10T16:15:00+02:00")).toBe(Date.UTC(2014, 3, 10, 14, 15));
    expect(parseNabTimestamp("2014-13-10 16:15:00")).toBeNaN();
  });

  it("reads windows.json", () => {
    const labels = parseNabLabels(
      '{"a.csv": [["2014-04-10 16:15:00.000000", "2014-04-11 16:15:00.000000"]], "b.csv": []}',
    );
    expect(labels["a.csv"][0][1] - labels["a.csv"][0][0]).toBe(86_400_000);
    expect(labels["b.csv"]).toEqual([]);
    expect(() => parseNabLabels('{"a.csv": [["x", "y"]]}')).toThrow(/invalid timestamps/);
  });
});
