import { ValidationError } from "../shared/errors.ts";

/** A NAB-format CSV (`timestamp,value`) cannot be read; `line` is 1-based. */
export class NabCsvError extends ValidationError {
  readonly line: number;
  constructor(message: string, line: number) {
    super(line > 0 ? `line ${line}: ${message}` : message, {
      code: "NAB_CSV",
      issues: [{ path: `line ${line}`, message }],
    });
    this.line = line;
  }
}

/** NAB labels (windows) that do not fit the series they describe. */
export class NabLabelError extends ValidationError {
  constructor(message: string) {
    super(message, { code: "NAB_LABELS" });
  }
}
