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

/** The change history of threshold rules (who, when, before, after). Appends are idempotent per entry. */
export interface ThresholdsHistoryStore {
  record(entry: import("../thresholds/history.ts").ThresholdHistoryEntry): Promise<void>;
  /** Newest first; only one scope's changes when `scope` (path form) is given. */
  list(options?: {
    scope?: string;
    limit?: number;
  }): Promise<import("../thresholds/history.ts").ThresholdHistoryEntry[]>;
}
