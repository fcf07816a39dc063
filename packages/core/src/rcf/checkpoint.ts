import { deflateRawSync, inflateRawSync } from "node:zlib";
import { ByteReader, ByteWriter } from "./binary.ts";
import { CheckpointFormatError, CheckpointVersionError } from "./errors.ts";

/** "DWRC": Driftwatch random cut forest checkpoint. */
const MAGIC = [0x44, 0x57, 0x52, 0x43];
/** The newest format this build writes and reads. Bump on any layout change; readers refuse newer ones. */
export const CHECKPOINT_VERSION = 9;
/** Version 1: no tail state in the thresholder (read, and migrated; see ADR 0302). */
export const CHECKPOINT_VERSION_NO_TAIL = 1;
/** Version 2: no per-series thresholder state after the thresholder state (read; see ADR 0303). */
export const CHECKPOINT_VERSION_NO_SERIES = 2;
/** Version 3: no raw-score tail (the thresholder's fast path) after the per-series state (read; see ADR 0304). */
export const CHECKPOINT_VERSION_NO_RAW_TAIL = 3;
/** Version 4: no per-series normaliser section after the raw-score tail (read; see ADR 0305). */
export const CHECKPOINT_VERSION_NO_NORMALIZER = 4;
/** Version 5: no per-series local statistics in the normaliser section (read; see ADR 0306). */
export const CHECKPOINT_VERSION_NO_LOCAL = 5;
/** Version 6: no sustained-path statistics in the normaliser section (read; see ADR 0309). */
export const CHECKPOINT_VERSION_NO_SUSTAINED = 6;
/** Version 7: no innovation-path statistics in the normaliser section (read; see ADR 0310). */
export const CHECKPOINT_VERSION_NO_INNOVATION = 7;
/** Version 8: no follow states of the normaliser's levels (read; see ADR 0311). */
export const CHECKPOINT_VERSION_NO_FOLLOW = 8;
const FLAG_DEFLATE = 1;

/**
 * Deflate level of a compressed checkpoint: 1, the fastest. A kda d=5 forest's checkpoint (1.7 MB plain) deflates in
 * ~4 ms to ~237 KB at level 1 against ~17 ms to ~219 KB at level 6 (issue 13: every model is checkpointed at every
 * window end, on the scorer's path; ADR 0302). Any level inflates the same way.
 */
const DEFLATE_LEVEL = 1;

/** Wraps a body in the versioned envelope: magic, version (u16), flags (u16), body (optionally deflated). */
export function sealCheckpoint(body: Uint8Array, compress: boolean): Uint8Array {
  const payload = compress ? new Uint8Array(deflateRawSync(body, { level: DEFLATE_LEVEL })) : body;
  const w = new ByteWriter();
  for (const b of MAGIC) w.u8(b);
  w.u16(CHECKPOINT_VERSION);
  w.u16(compress ? FLAG_DEFLATE : 0);
  w.bytes(payload);
  return w.finish();
}

/** Checks the envelope and returns a reader over the (inflated) body. */
export function openCheckpoint(bytes: Uint8Array): { version: number; reader: ByteReader } {
  if (!(bytes instanceof Uint8Array)) throw new CheckpointFormatError("checkpoint must be a Uint8Array");
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new CheckpointFormatError("not a Driftwatch detector checkpoint (bad magic)");
  }
  const head = new ByteReader(bytes);
  head.bytes(4);
  const version = head.u16();
  const flags = head.u16();
  if (version < 1 || version > CHECKPOINT_VERSION)
    throw new CheckpointVersionError(version, CHECKPOINT_VERSION);
  if ((flags & ~FLAG_DEFLATE) !== 0)
    throw new CheckpointFormatError(`checkpoint uses unknown flags ${flags}`);
  let body = bytes.subarray(8);
  if ((flags & FLAG_DEFLATE) !== 0) {
    try {
      body = new Uint8Array(inflateRawSync(body));
    } catch (cause) {
      throw new CheckpointFormatError("checkpoint body does not inflate", { cause });
    }
  }
  return { version, reader: new ByteReader(body) };
}

export { ByteReader, ByteWriter };
