import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { LakeObjectStore } from "@driftwatch/core/ports/lake-object-store";
import { toDriftwatchError } from "./aws-errors.ts";

/**
 * The stream-fed lake writer's objects in the lake bucket: readings/ and errors/ under the lake key, raw/ under the
 * raw zone's own key (ADR 0101: original payloads are sealed apart; the raw key's policy names the writer's role).
 * Bucket keys are on, so S3 calls KMS per bucket key, not per object. A put of an existing key replaces it.
 */
export class S3LakeObjects implements LakeObjectStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly keys: { lakeKeyId: string; rawKeyId: string },
  ) {}

  async put(object: { zone: "readings" | "errors" | "raw"; key: string; body: Uint8Array }): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: object.key,
          Body: object.body,
          ContentType: "application/x-ndjson",
          ContentEncoding: "gzip",
          ServerSideEncryption: "aws:kms",
          SSEKMSKeyId: object.zone === "raw" ? this.keys.rawKeyId : this.keys.lakeKeyId,
          BucketKeyEnabled: true,
        }),
      );
    } catch (error) {
      throw toDriftwatchError(error, `lake PutObject (${object.zone})`);
    }
  }
}
