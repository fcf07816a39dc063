import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { CheckpointStore } from "@driftwatch/core/ports/checkpoint-store";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * Model checkpoints (and the per-shard presence snapshot) as S3 objects under `<prefix><key>`. The bucket is
 * KMS-encrypted by the stack; a put replaces the object (idempotent), a missing object is `undefined`.
 */
export class S3CheckpointStore implements CheckpointStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix = "checkpoints/",
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const result = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      return result.Body ? await result.Body.transformToByteArray() : undefined;
    } catch (error) {
      const name = (error as Error).name;
      if (name === "NoSuchKey" || name === "NotFound") return undefined;
      throw toDriftwatchError(error, "checkpoint GetObject");
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: bytes,
          ContentType: "application/octet-stream",
        }),
      );
    } catch (error) {
      throw toDriftwatchError(error, "checkpoint PutObject");
    }
  }
}
