import { NabCsvError } from "./errors.ts";
import { parseNabTimestamp } from "./timestamp.ts";

export interface NabRow {
  /** The timestamp exactly as written in the file (echoed to the output). */
  timestamp: string;
  /** Epoch milliseconds (UTC when the file has no zone). */
  time: number;
  value: number;
  /** The value field exactly as written (echoed to the output). */
  valueText: string;
}

/**
 * Reads a NAB-format CSV: a header whose first two columns are `timestamp,value` (extra columns are ignored),
 * then one row per time step. Blank lines are skipped; any other malformed row is an error naming its line.
 * Rows are kept in file order whatever their timestamps: repeated timestamps, clocks stepping back and late rows
 * are all accepted (the detector scores values in arrival order, as the scoring Lambda does; issue 8).
 */
export function parseNabCsv(text: string): NabRow[] {
  const lines = text.split(/\r?\n/);
  let lineNo = 0;
  while (lineNo < lines.length && lines[lineNo].trim() === "") lineNo++;
  if (lineNo >= lines.length) throw new NabCsvError("file is empty: expected a header `timestamp,value`", 0);
  const header = splitCsvLine(lines[lineNo]).map((h) =>
    h
      .trim()
      .toLowerCase()
      .replace(/^\ufeff/, ""),
  );
  const ti = header.indexOf("timestamp");
  const vi = header.indexOf("value");
  if (ti < 0 || vi < 0) {
    throw new NabCsvError("header must name the columns `timestamp` and `value`", lineNo + 1);
  }
  const rows: NabRow[] = [];
  for (let i = lineNo + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") continue;
    const fields = splitCsvLine(line);
    if (fields.length <= Math.max(ti, vi)) {
      throw new NabCsvError(
        `expected at least ${Math.max(ti, vi) + 1} columns, found ${fields.length}`,
        i + 1,
      );
    }
    const timestamp = fields[ti].trim();
    const time = parseNabTimestamp(timestamp);
    if (Number.isNaN(time))
      throw new NabCsvError("timestamp is not a date-time like 2014-04-10 16:15:00", i + 1);
    const valueText = fields[vi].trim();
    const value = valueText === "" ? Number.NaN : Number(valueText);
    if (!Number.isFinite(value)) throw new NabCsvError("value is not a finite number", i + 1);
    rows.push({ timestamp, time, value, valueText });
  }
  if (rows.length === 0) throw new NabCsvError("file has a header but no rows", 0);
  return rows;
}

/** Splits one CSV line, honouring double quotes. */
function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
