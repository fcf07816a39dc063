/**
 * Completes a Step Functions task that waits for a callback (`.waitForTaskToken`): `SendTaskSuccess` on AWS,
 * the parked promise locally. `stale` when the token no longer waits (timed out, already completed).
 */
export interface TaskTokens {
  succeed(token: string, output: Record<string, unknown>): Promise<"sent" | "stale">;
}
