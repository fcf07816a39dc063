/**
 * Where the stream-fed lake writer puts its objects (S3 on AWS: readings/ and errors/ under the lake key, raw/
 * under the raw zone's own key; local mode: files under `$DATA_DIR/lake/`, raw/ sealed with the local raw key).
 * `put` of an existing key replaces the object (a retried batch rewrites the same keys: idempotent).
 */
export interface LakeObjectStore {
  put(object: { zone: "readings" | "errors" | "raw"; key: string; body: Uint8Array }): Promise<void>;
}
