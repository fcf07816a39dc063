import { NabLabelError } from "./errors.ts";
import { parseNabTimestamp } from "./timestamp.ts";

/** NAB `windows.json`: series path → labelled windows as [start, end] epoch milliseconds. */
export type NabLabels = Record<string, [number, number][]>;

export function parseNabLabels(json: string): NabLabels {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (cause) {
    throw new NabLabelError(`windows file is not JSON: ${(cause as Error).message}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new NabLabelError("windows file must be an object of series → [[start, end], …]");
  }
  const out: NabLabels = {};
  for (const [name, windows] of Object.entries(data as Record<string, unknown>)) {
    if (!Array.isArray(windows)) throw new NabLabelError(`${name}: windows must be an array`);
    out[name] = windows.map((w, i) => {
      if (!Array.isArray(w) || w.length !== 2 || typeof w[0] !== "string" || typeof w[1] !== "string") {
        throw new NabLabelError(`${name}: window ${i} must be ["start", "end"]`);
      }
      const start = parseNabTimestamp(w[0]);
      const end = parseNabTimestamp(w[1]);
      if (Number.isNaN(start) || Number.isNaN(end) || end < start) {
        throw new NabLabelError(`${name}: window ${i} has invalid timestamps`);
      }
      return [start, end] as [number, number];
    });
  }
  return out;
}
