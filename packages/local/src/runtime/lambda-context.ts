import crypto from "node:crypto";
import type { Context } from "aws-lambda";

/** Account id local mode uses in ARNs (as LocalStack and the AWS docs' examples do). */
export const LOCAL_ACCOUNT_ID = "000000000000";
export const LOCAL_REGION = "us-east-1";

/**
 * A Lambda `Context` for running a handler in-process, as the Lambda runtime would pass it: a fresh request id
 * per invocation, ARNs and log names of the function, and a deadline behind `getRemainingTimeInMillis`.
 */
export function createLambdaContext(options: {
  functionName: string;
  timeoutMs: number;
  memoryLimitInMB?: number;
  region?: string;
  now?: () => number;
}): Context {
  const now = options.now ?? Date.now;
  const region = options.region ?? LOCAL_REGION;
  const requestId = crypto.randomUUID();
  const deadline = now() + options.timeoutMs;
  const day = new Date(now()).toISOString().slice(0, 10).replaceAll("-", "/");
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${requestId.replaceAll("-", "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Thrown when an in-process invocation outlives its function's timeout. */
export class LambdaTimeoutError extends Error {
  override name = "LambdaTimeoutError";
}

/** Runs `invoke` with the Lambda's timeout: rejects with `LambdaTimeoutError` if it does not settle in time. */
export async function withLambdaTimeout<T>(timeoutMs: number, invoke: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      invoke(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LambdaTimeoutError(`Task timed out after ${timeoutMs / 1000} seconds`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
