import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError } from "@driftwatch/core/shared/errors";
import { S3CheckpointStore } from "../../src/adapters/s3-checkpoint-store.ts";

// s3rver ships no types: a real S3 REST API (path-style) on a local port, objects on disk.
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)("s3rver") as new (options: {
  port: number;
  address: string;
  directory: string;
  silent: boolean;
}) => S3rverInstance;

/** The checkpoint store against a real S3 API (s3rver), with the SDK client configured as in Lambda. */
// Element-wise toEqual on 70 kB takes seconds; compare the bytes directly.
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) =>
  a !== undefined && Buffer.from(a).equals(Buffer.from(b));

describe("S3CheckpointStore against s3rver", () => {
  let server: S3rverInstance;
  let directory: string;
  let s3: S3Client;
  const bucket = "driftwatch-checkpoints";

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "s3rver-"));
    server = new S3rver({ port: 0, address: "127.0.0.1", directory, silent: true });
    const { port } = await server.run();
    s3 = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    s3?.destroy();
    await server?.close();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it("returns undefined for a checkpoint never written", async () => {
    const store = new S3CheckpointStore(s3, bucket);
    expect(await store.get("model/never-written")).toBeUndefined();
  });

  it("writes under the prefix and reads the exact bytes back; a second put replaces the first", async () => {
    const store = new S3CheckpointStore(s3, bucket, "checkpoints/");
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) % 256); // binary, every byte value
    await store.put("rcf/dev-1/temp", bytes);
    expect(sameBytes(await store.get("rcf/dev-1/temp"), bytes)).toBe(true);

    const raw = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "checkpoints/rcf/dev-1/temp" }));
    expect(raw.ContentType).toBe("application/octet-stream");
    expect(sameBytes(await raw.Body!.transformToByteArray(), bytes)).toBe(true);

    const replaced = new Uint8Array([1, 2, 3]);
    await store.put("rcf/dev-1/temp", replaced);
    expect(await store.get("rcf/dev-1/temp")).toEqual(replaced);
  });

  it("keeps prefixes apart", async () => {
    await new S3CheckpointStore(s3, bucket, "a/").put("k", new Uint8Array([1]));
    await new S3CheckpointStore(s3, bucket, "b/").put("k", new Uint8Array([2]));
    expect(await new S3CheckpointStore(s3, bucket, "a/").get("k")).toEqual(new Uint8Array([1]));
    expect(await new S3CheckpointStore(s3, bucket, "b/").get("k")).toEqual(new Uint8Array([2]));
  });

  it("reports a missing bucket as a ConfigurationError naming the operation, not as a missing checkpoint", async () => {
    const store = new S3CheckpointStore(s3, "no-such-bucket");
    const error = await store.put("k", new Uint8Array([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe("checkpoint PutObject failed: NoSuchBucket");
    await expect(store.get("k")).rejects.toBeInstanceOf(ConfigurationError);
  });
});
