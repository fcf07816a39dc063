import { SendTaskSuccessCommand, type SFNClient } from "@aws-sdk/client-sfn";
import type { TaskTokens } from "@driftwatch/core/ports/task-tokens";
import { toDriftwatchError } from "./aws-errors.ts";

const STALE = new Set(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"]);

/**
 * `TaskTokens` with Step Functions `SendTaskSuccess`; a token that no longer waits is `stale`, not an error.
 * Throttling and 5xx are `TransientError` (retried), access denied a `ConfigurationError`.
 */
export function createSfnTaskTokens(client: SFNClient): TaskTokens {
  return {
    async succeed(token, output) {
      try {
        await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
        return "sent";
      } catch (error) {
        if (STALE.has((error as Error).name)) return "stale";
        throw toDriftwatchError(error, "SendTaskSuccess");
      }
    },
  };
}
