const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** Rounds to the nearest float32, mapping -0 to 0 (as the Java library does) so equal points compare equal. */
export function toFloat32(value: number): number {
  return value === 0 ? 0 : Math.fround(value);
}

/** The largest float32 strictly below `value` (itself a float32). */
export function float32Below(value: number): number {
  if (value === 0) return -1.401298464324817e-45;
  f32[0] = value;
  if (value > 0) i32[0] -= 1;
  else i32[0] += 1;
  return f32[0];
}
