/** Single-use nonces (acknowledgement links). `consume` is atomic: true exactly once per nonce. */
export interface NonceStore {
  /** Marks the nonce used; false if it was used before. `expiresAt` (epoch seconds) lets the store forget it. */
  consume(nonce: string, expiresAt: number): Promise<boolean>;
  /** Makes a consumed nonce usable again (the action it guarded failed and the user should retry). */
  release(nonce: string): Promise<void>;
}
