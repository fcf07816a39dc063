/**
 * xoshiro128** pseudo-random generator over an Int32Array state (4 words per stream), so a forest keeps one
 * deterministic stream per tree without allocating and the state can be checkpointed as raw words.
 */
export const RNG_WORDS = 4;

/** Seeds `state[offset..offset+3]` from a 32-bit seed and a stream number with splitmix32. */
export function seedRng(state: Int32Array, offset: number, seed: number, stream: number): void {
  let x = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((stream + 1) | 0, 0x85ebca6b)) | 0;
  for (let i = 0; i < RNG_WORDS; i++) {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    state[offset + i] = z;
  }
  if ((state[offset] | state[offset + 1] | state[offset + 2] | state[offset + 3]) === 0) state[offset] = 1;
}

/** Next 32-bit output as an unsigned integer in [0, 2^32). */
export function nextUint32(s: Int32Array, o: number): number {
  const s0 = s[o];
  const s1 = s[o + 1];
  const s2 = s[o + 2];
  const s3 = s[o + 3];
  const m = Math.imul(s1, 5);
  const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
  const t = s1 << 9;
  const n2 = s2 ^ s0;
  const n3 = s3 ^ s1;
  s[o + 1] = s1 ^ n2;
  s[o] = s0 ^ n3;
  s[o + 2] = n2 ^ t;
  s[o + 3] = (n3 << 11) | (n3 >>> 21);
  return result;
}

const TWO_POW_32 = 4294967296;

/** Uniform double in [0, 1) with 32 bits of resolution. */
export function nextUnit(s: Int32Array, o: number): number {
  return nextUint32(s, o) / TWO_POW_32;
}

/** Uniform double in the open interval (0, 1): never 0, never 1 (safe under log). */
export function nextOpenUnit(s: Int32Array, o: number): number {
  return (nextUint32(s, o) + 0.5) / TWO_POW_32;
}
