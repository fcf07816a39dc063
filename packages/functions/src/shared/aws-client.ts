import { tracer } from "./observability.ts";

/**
 * One AWS SDK client per cold start, wrapped by the tracer (X-Ray subsegments per call in Lambda; a pass-through
 * elsewhere), built on first use. Each function group's composition module (`stepfunctions/deps.ts`,
 * `kinesis/deps.ts`, `http/shared/deps.ts`, `firehose/transform.ts`) declares the clients it uses with it:
 *
 *   const sfn = tracedClient(() => new SFNClient({}));
 *   … new SfnEscalationStarter(sfn(), arn)
 */
export function tracedClient<C extends object>(create: () => C): () => C {
  let client: C | undefined;
  return () => (client ??= tracer.captureAWSv3Client(create()));
}
