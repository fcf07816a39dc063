import type { Context } from "aws-lambda";

/** The one Lambda context every handler test passes (the handlers read nothing from it but the request id). */
export const lambdaContext = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: "driftwatch-test-function",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:driftwatch-test-function",
  memoryLimitInMB: "512",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  logGroupName: "/aws/lambda/driftwatch-test-function",
  logStreamName: "2024/03/01/[$LATEST]abcdef",
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;
