import { randomBytes } from "node:crypto";
import type { TaskTokens } from "@driftwatch/core/ports/task-tokens";

interface Parked {
  resolve(output: Record<string, unknown>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** What a parked wait rejects with when local mode shuts down (`clear`): the task ends instead of hanging. */
export class TaskTokensClearedError extends Error {
  override name = "States.Runtime";
  constructor() {
    super("local escalation stopped while the task waited for its token");
  }
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
    const wait = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => this.parked.delete(token), ttlMs);
      timer.unref();
      this.parked.set(token, { resolve, reject, timer });
    });
    // `clear` may reject before the caller awaits (it is still invoking the task's handler): not unhandled.
    wait.catch(() => undefined);
    return wait;
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

  /**
   * Ends every parked wait (shutdown): each rejects with `TaskTokensClearedError`, so the runner's task ends and
   * clears its own timeout timer (aws-local-stepfunctions keeps a ref'd `setTimeout` per task for the state's
   * TimeoutSeconds, which would otherwise hold an in-process user's event loop open for the whole ack timeout).
   */
  clear(): void {
    for (const [token, parked] of [...this.parked]) {
      this.drop(token);
      parked.reject(new TaskTokensClearedError());
    }
  }
}
