import { StartExecutionCommand, type SFNClient } from "@aws-sdk/client-sfn";
import type { Alert } from "@driftwatch/core/alerts/alert";
import type { EscalationStarter } from "@driftwatch/core/ports/escalation-starter";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * Starts the escalation state machine (Standard) with a deterministic execution name. `ExecutionAlreadyExists`
 * (same name, any input, within 90 days) is success: the escalation already runs or ran, so retries and
 * duplicates never start a second one. Throttling and 5xx surface as `TransientError` (the record is retried).
 */
export class SfnEscalationStarter implements EscalationStarter {
  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(alert: Alert, executionName: string): Promise<{ started: boolean }> {
    try {
      await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName,
          input: JSON.stringify(alert),
        }),
      );
      return { started: true };
    } catch (error) {
      if ((error as Error).name === "ExecutionAlreadyExists") return { started: false };
      throw toDriftwatchError(error, "StartExecution");
    }
  }
}
