import type { ThresholdRule } from "../thresholds/threshold-rule.ts";

/** Reads threshold rules by scope key (DynamoDB on AWS, dynalite locally). Missing scopes are simply absent. */
export interface ThresholdsStore {
  getMany(scopes: readonly string[]): Promise<ThresholdRule[]>;
}

/** Edits threshold rules (API, local CLI). `put` overwrites the scope's rule as a whole (idempotent). */
export interface ThresholdsWriter {
  put(rule: ThresholdRule): Promise<void>;
  remove(scope: string): Promise<void>;
  list(): Promise<ThresholdRule[]>;
}
