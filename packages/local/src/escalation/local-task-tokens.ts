import { randomBytes } from "node:crypto";
import type { TaskTokens } from "@driftwatch/core/ports/task-tokens";

interface Parked {
  resolve(output: Record<string, unknown>): void;
  timer: NodeJS.Timeout;
}

/**
 * Local stand-in for Step Functions task tokens: a `.waitForTaskToken` task parks a promise on its token and
 * `succeed` (called by the acknowledge/resolve handlers through the `TaskTokens` port) releases it. A token
 * that no longer waits (timed out, completed, or never parked) is `stale`, as SendTaskSuccess reports.
 */
export class LocalTaskTokens implements TaskTokens {
  private readonly parked = new Map<string, Parked>();

  /** A fresh opaque token, like `$$.Task.Token`. */
  static newToken(): string {
    return `local-task-${randomBytes(24).toString("base64url")}`;
  }

  /** Parks a wait on `token`; it is forgotten after `ttlMs` (the task's own timeout has fired by then). */
  park(token: string, ttlMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.parked.delete(token), ttlMs);
      timer.unref();
      this.parked.set(token, { resolve, timer });
    });
  }

  drop(token: string): void {
    const parked = this.parked.get(token);
    if (parked) clearTimeout(parked.timer);
    this.parked.delete(token);
  }

  get waiting(): number {
    return this.parked.size;
  }

  async succeed(token: string, output: Record<string, unknown>): Promise<"sent" | "stale"> {
    const parked = this.parked.get(token);
    if (!parked) return "stale";
    this.drop(token);
    parked.resolve(output);
    return "sent";
  }

  /** Forgets every parked wait (shutdown). */
  clear(): void {
    for (const token of [...this.parked.keys()]) this.drop(token);
  }
}
