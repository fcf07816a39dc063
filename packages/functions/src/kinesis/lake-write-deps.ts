import { S3Client } from "@aws-sdk/client-s3";
import { lazy, readConfig, required } from "../shared/config.ts";
import { tracedClient } from "../shared/aws-client.ts";
import { S3LakeObjects } from "../adapters/s3-lake-objects.ts";
import { createAwsTransformDeps } from "../firehose/transform.ts";
import { createLakeWriteHandler, type LakeWriteDeps } from "./lake-write.ts";

/**
 * Composition of the lake writer on AWS: the transformation's own dependencies (registry, vault, token key:
 * `createAwsTransformDeps`, the same wiring as the Firehose transformation) and the lake bucket with its two keys.
 * Built on the first invocation; module import reads no configuration and creates no clients.
 */
const s3 = tracedClient(() => new S3Client({}));

export async function createAwsLakeWriteDeps(env: NodeJS.ProcessEnv = process.env): Promise<LakeWriteDeps> {
  const config = readConfig(
    { LAKE_BUCKET: required(), LAKE_KEY_ID: required(), RAW_KEY_ID: required() },
    env,
  );
  const transform = await createAwsTransformDeps(env);
  return {
    ...transform,
    store: new S3LakeObjects(s3(), config.LAKE_BUCKET, {
      lakeKeyId: config.LAKE_KEY_ID,
      rawKeyId: config.RAW_KEY_ID,
    }),
  };
}

export const handler = createLakeWriteHandler(lazy(() => createAwsLakeWriteDeps()));
