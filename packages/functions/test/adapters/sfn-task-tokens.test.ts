import { SendTaskSuccessCommand, SFNClient } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ConfigurationError, TransientError } from "@driftwatch/core/shared/errors";
import { createSfnTaskTokens } from "../../src/adapters/sfn-task-tokens.ts";
import { awsError } from "./aws-error-fixtures.ts";

describe("createSfnTaskTokens", () => {
  const sfn = mockClient(SFNClient);
  afterEach(() => sfn.reset());
  // The unit pool is not isolated: restore the SDK's own send() for the next file in this worker.
  afterAll(() => sfn.restore());

  it("sends exactly one SendTaskSuccess with the token and the output as JSON", async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    const tokens = createSfnTaskTokens(new SFNClient({}));

    expect(await tokens.succeed("token-1", { acknowledgedBy: "link", at: "2026-01-01T00:00:00.000Z" })).toBe(
      "sent",
    );

    expect(sfn.calls()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: "token-1",
      output: '{"acknowledgedBy":"link","at":"2026-01-01T00:00:00.000Z"}',
    });
  });

  it.each(["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"])(
    "reports a token that no longer waits (%s) as stale, not as an error",
    async (name) => {
      sfn.on(SendTaskSuccessCommand).rejects(awsError(name));
      expect(await createSfnTaskTokens(new SFNClient({})).succeed("token-1", {})).toBe("stale");
    },
  );

  it("surfaces throttling as a TransientError and succeeds on the retry", async () => {
    sfn.on(SendTaskSuccessCommand).rejectsOnce(awsError("ThrottlingException")).resolves({});
    const tokens = createSfnTaskTokens(new SFNClient({}));

    const error = await tokens.succeed("token-1", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe("SendTaskSuccess failed: ThrottlingException");
    expect(await tokens.succeed("token-1", {})).toBe("sent");
  });

  it("reports access denied as a ConfigurationError", async () => {
    sfn.on(SendTaskSuccessCommand).rejects(awsError("AccessDeniedException"));
    const error = await createSfnTaskTokens(new SFNClient({}))
      .succeed("token-1", {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe("SendTaskSuccess failed: AccessDeniedException");
  });
});
